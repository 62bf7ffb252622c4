"""Integration tests run against a deployed stack found through its outputs:
on a sandbox they start (default), or on AWS with ORDERS_TARGET=aws and
ORDERS_STACK (``make test-integration STAGE=ci1 ORDERS_TARGET=aws``)."""

import os

import pytest

from orders_lib.workbook.bench import Workbench


@pytest.fixture(scope="session")
def bench(request):
    if os.environ.get("ORDERS_TARGET") == "aws":
        from orders_lib.deploy.credentials import caller_identity

        caller_identity()  # fails at once, saying what to configure, without credentials
        return Workbench.connect("aws", os.environ.get("ORDERS_STACK"))
    return Workbench.connect("sandbox", endpoint=request.getfixturevalue("deployed_sandbox").endpoint)


@pytest.fixture(scope="session")
def patience(bench):
    """Seconds to wait for asynchronous effects: AWS retries with back-off, the sandbox does not."""
    return 240.0 if bench.settings.target == "aws" else 30.0

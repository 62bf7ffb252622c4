"""Integration tests run against a deployed stack found through its outputs:
on a sandbox they start (default), or on AWS with ORDERS_TARGET=aws and
ORDERS_STACK (``make test-integration STAGE=ci1 ORDERS_TARGET=aws``)."""

import os

import pytest

from orders_lib.sandbox import control
from orders_lib.workbook.bench import Workbench


@pytest.fixture(scope="session")
def bench(tmp_path_factory):
    if os.environ.get("ORDERS_TARGET") == "aws":
        from orders_lib.deploy.credentials import caller_identity

        caller_identity()  # fails at once, saying what to configure, without credentials
        yield Workbench.connect("aws", os.environ.get("ORDERS_STACK"))
        return
    state_dir = tmp_path_factory.mktemp("integration-sandbox")
    state, _ = control.start(port=0, state_dir=state_dir, deploy=True, timeout_s=120)
    yield Workbench.connect("sandbox", endpoint=state.endpoint)
    control.stop(state_dir)


@pytest.fixture(scope="session")
def patience(bench):
    """Seconds to wait for asynchronous effects: AWS retries with back-off, the sandbox does not."""
    return 240.0 if bench.settings.target == "aws" else 30.0

"""Reliability fixtures: a freshly started sandbox with the stack deployed, stopped afterwards."""

from __future__ import annotations

import time

import pytest

from orders_lib.sandbox import control
from sandbox_testing import Aws


def wait_until_settled(endpoint: str, quiet_s: float = 1.5, timeout: float = 90.0) -> dict:
    """Until every mapping has nothing pending and its checkpoint has stopped moving."""
    last, since = None, time.monotonic()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stats = control.control(endpoint, "mappings")
        shards = [shard for mapping in stats.values() for shard in mapping["shards"]]
        snapshot = [(s["checkpoint"], s["invocations"]) for s in shards]
        if any(s["pending"] for s in shards) or snapshot != last:
            last, since = snapshot, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return stats
        time.sleep(0.2)
    raise AssertionError(f"the event source mappings did not settle within {timeout} s: {stats}")


@pytest.fixture(scope="session")
def sandbox(start_sandbox):
    """A freshly started sandbox for this folder. The reconciliation run goes first
    (files run in name order); later tests only add orders it does not count."""
    return start_sandbox("sandbox-reliability")


@pytest.fixture(scope="session")
def aws(sandbox):
    return Aws(sandbox.endpoint)


@pytest.fixture(scope="session")
def outputs(sandbox):
    return sandbox.outputs

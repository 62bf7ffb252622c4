"""Reliability fixtures: a freshly started sandbox with the stack deployed, stopped afterwards."""

from __future__ import annotations

import time

import boto3
import pytest
from botocore.config import Config

from orders_lib.sandbox import control


class Aws:
    """boto3 clients for the sandbox, created once per service."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self._clients: dict[str, object] = {}

    def __call__(self, service: str):
        if service not in self._clients:
            self._clients[service] = boto3.session.Session().client(
                service, endpoint_url=self.endpoint, region_name="us-east-1", aws_access_key_id="testing",
                aws_secret_access_key="testing",
                config=Config(retries={"max_attempts": 3, "mode": "standard"}, max_pool_connections=16),
            )
        return self._clients[service]


def wait_for(condition, timeout=30.0, interval=0.1, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {message}")


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
def sandbox(tmp_path_factory):
    """A freshly started sandbox for this folder. The reconciliation run goes first
    (files run in name order); later tests only add orders it does not count."""
    state_dir = tmp_path_factory.mktemp("sandbox-reliability")
    state, _ = control.start(port=0, state_dir=state_dir, deploy=True, timeout_s=120)
    yield state
    control.stop(state_dir)
    assert control.running(state_dir) is None


@pytest.fixture(scope="session")
def aws(sandbox):
    return Aws(sandbox.endpoint)


@pytest.fixture(scope="session")
def outputs(sandbox):
    return sandbox.outputs

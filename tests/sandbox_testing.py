"""Shared by the test folders that run a real sandbox: clients and waiting.
(Sandboxes themselves come from the ``start_sandbox`` fixture in conftest.py.)"""

from __future__ import annotations

import time
from typing import Any

import boto3
from botocore.config import Config


class Aws:
    """boto3 clients for a sandbox endpoint, created once per service."""

    def __init__(self, endpoint: str, attempts: int = 3):
        self.endpoint = endpoint
        self._config = Config(retries={"max_attempts": attempts, "mode": "standard"}, max_pool_connections=16)
        self._clients: dict[str, Any] = {}

    def __call__(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.session.Session().client(
                service, endpoint_url=self.endpoint, region_name="us-east-1", aws_access_key_id="testing",
                aws_secret_access_key="testing", config=self._config,
            )
        return self._clients[service]


def wait_for(condition, timeout=15.0, interval=0.05, message="condition"):
    """The first truthy value of ``condition()``, or an AssertionError naming what never came."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {message}")

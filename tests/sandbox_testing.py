"""Shared by the test folders that run a real sandbox: clients and waiting.
(Sandboxes themselves come from the ``start_sandbox`` fixture in conftest.py.)"""

from __future__ import annotations

import json
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
                service,
                endpoint_url=self.endpoint,
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                config=self._config,
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


LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def execution_role(aws: Aws, function: str, statements: list[dict[str, Any]], account: str = "123456789012") -> str:
    """A role for a test function that allows what it needs and nothing else: ``statements``
    plus its own log group, as a least-privilege role would. The sandbox enforces it."""
    group = f"arn:aws:logs:us-east-1:{account}:log-group:/aws/lambda/{function}"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "OwnLogGroup", "Effect": "Allow", "Action": "logs:CreateLogGroup", "Resource": group},
            {"Sid": "OwnLogStreams", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": f"{group}:*"},
            *statements,
        ],
    }
    iam = aws("iam")
    arn = iam.create_role(RoleName=function, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))["Role"]["Arn"]
    iam.put_role_policy(RoleName=function, PolicyName="least-privilege", PolicyDocument=json.dumps(policy))
    return arn

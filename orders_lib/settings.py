"""Where the code talks to: the one place that knows about targets.

``ORDERS_TARGET`` is ``sandbox`` (default outside Lambda) or ``aws`` (default
inside Lambda). The sandbox endpoint is ``ORDERS_ENDPOINT_URL`` (default
``http://localhost:4566``); on AWS the standard ``AWS_ENDPOINT_URL`` still works.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace

TARGETS = ("sandbox", "aws")
DEFAULT_STACK = "techtest-orders"
DEFAULT_REGION = "us-east-1"
DEFAULT_SANDBOX_ENDPOINT = "http://localhost:4566"


class ConfigurationError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    target: str = "sandbox"
    region: str = DEFAULT_REGION
    stack_name: str = DEFAULT_STACK
    endpoint_url: str | None = DEFAULT_SANDBOX_ENDPOINT

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: str | None) -> Settings:
        env = os.environ if env is None else env
        in_lambda = "AWS_LAMBDA_FUNCTION_NAME" in env
        target = overrides.get("target") or env.get("ORDERS_TARGET") or ("aws" if in_lambda else "sandbox")
        if target not in TARGETS:
            raise ConfigurationError(f"target {target!r} is unknown; use one of {', '.join(TARGETS)} (ORDERS_TARGET)")
        region = overrides.get("region") or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
        stack = overrides.get("stack_name") or env.get("ORDERS_STACK") or DEFAULT_STACK
        endpoint: str | None
        if target == "sandbox":
            endpoint = overrides.get("endpoint_url") or env.get("ORDERS_ENDPOINT_URL") or DEFAULT_SANDBOX_ENDPOINT
        else:
            endpoint = overrides.get("endpoint_url") or env.get("AWS_ENDPOINT_URL") or None
        return cls(target=target, region=region, stack_name=stack, endpoint_url=endpoint)

    def with_endpoint(self, endpoint_url: str) -> Settings:
        return replace(self, endpoint_url=endpoint_url)

    @property
    def is_sandbox(self) -> bool:
        return self.target == "sandbox"

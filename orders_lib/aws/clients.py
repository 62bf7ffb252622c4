"""One boto3 client per service and target, created once per process."""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

from ..settings import Settings

_CLIENTS: dict[tuple[str, Settings], Any] = {}
_LOCK = threading.Lock()
# Standard retry mode with a few attempts: throttling and 5xx are retried by
# botocore; a failed condition is not an error and is never retried.
_CONFIG = Config(retries={"max_attempts": 4, "mode": "standard"}, connect_timeout=5, read_timeout=30)

# The sandbox accepts any credentials; these keep boto3 from looking for real ones.
SANDBOX_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def client(service: str, settings: Settings | None = None) -> Any:
    settings = settings or Settings.from_env()
    key = (service, settings)
    with _LOCK:
        if key not in _CLIENTS:
            options: dict[str, Any] = {"region_name": settings.region, "config": _CONFIG}
            if settings.endpoint_url:
                options["endpoint_url"] = settings.endpoint_url
            if settings.is_sandbox:
                options.update(SANDBOX_CREDENTIALS)
            _CLIENTS[key] = boto3.session.Session().client(service, **options)
        return _CLIENTS[key]


def reset() -> None:
    """Forget cached clients (tests that switch endpoints)."""
    with _LOCK:
        _CLIENTS.clear()

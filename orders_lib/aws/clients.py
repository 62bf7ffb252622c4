"""One boto3 client per service and target, created once per process."""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

from ..settings import Settings

_CLIENTS: dict[tuple[str, Settings], Any] = {}
_LOCK = threading.Lock()
_SESSION: Any = None
_SESSION_LOCK = threading.Lock()
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
            _CLIENTS[key] = new_client(service, settings)
        return _CLIENTS[key]


def new_client(service: str, settings: Settings | None = None, config: Config | None = None) -> Any:
    """A client of its own (not cached): one per simulated caller in a load run.

    Made from one shared session, which loads each service model once (~80 ms a
    client otherwise); a session is not thread-safe, so clients are made under a lock.
    """
    global _SESSION
    settings = settings or Settings.from_env()
    options: dict[str, Any] = {"region_name": settings.region, "config": _CONFIG.merge(config) if config else _CONFIG}
    if settings.endpoint_url:
        options["endpoint_url"] = settings.endpoint_url
    if settings.is_sandbox:
        options.update(SANDBOX_CREDENTIALS)
    with _SESSION_LOCK:
        _SESSION = _SESSION or boto3.session.Session()
        return _SESSION.client(service, **options)


def reset() -> None:
    """Forget cached clients (tests that switch endpoints)."""
    global _SESSION
    with _LOCK:
        _CLIENTS.clear()
    with _SESSION_LOCK:
        _SESSION = None

"""Test-wide safety: fake credentials, a fixed region, no real AWS by accident.
Only ``ORDERS_TARGET=aws`` (integration tests on a deployed stack) keeps the
caller's real credentials and profile."""

import os

import pytest

if os.environ.get("ORDERS_TARGET") != "aws":
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SECURITY_TOKEN": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
        }
    )
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")


@pytest.fixture(scope="session")
def start_sandbox(tmp_path_factory):
    """Start real sandbox processes on free ports; every one is stopped, and checked
    gone, when the session ends. ``start_sandbox(name, deploy=True)`` -> state."""
    from orders_lib.sandbox import control

    started = []

    def start(name: str, *, deploy: bool = True):
        state_dir = tmp_path_factory.mktemp(name)
        state, _ = control.start(port=0, state_dir=state_dir, deploy=deploy, timeout_s=120)
        started.append(state_dir)
        return state

    yield start
    for state_dir in started:
        control.stop(state_dir)
        assert control.running(state_dir) is None, f"sandbox in {state_dir} still running"

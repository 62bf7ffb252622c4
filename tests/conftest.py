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

    def start(name: str, *, deploy: bool = True, refusals_expected: bool = False):
        """``refusals_expected``: the tests on this sandbox take permissions away on purpose.
        Every other sandbox must end with no IAM refusal: the proof that the roles are enough."""
        state_dir = tmp_path_factory.mktemp(name)
        state, _ = control.start(port=0, state_dir=state_dir, deploy=deploy, timeout_s=120, iam="enforce")
        started.append((state_dir, state, refusals_expected))
        return state

    yield start
    refused = {}
    for state_dir, state, refusals_expected in started:
        iam = control.control(state.endpoint, "iam", None) if control.running(state_dir) else None
        if iam and not refusals_expected and (iam["refused"] or iam["would_refuse"]):
            refused[state_dir.name] = [r["message"] for r in iam["recent"]]
        control.stop(state_dir)
        assert control.running(state_dir) is None, f"sandbox in {state_dir} still running"
    assert not refused, f"IAM refused calls that the roles should allow: {refused}"


@pytest.fixture(scope="session")
def deployed_sandbox(start_sandbox):
    """One sandbox with the stack deployed, for every test of the session that only needs the
    stack as deployed (tests/sandbox, tests/integration): each such test keeps to orders and
    messages of its own and puts back what it changes (chaos, clock)."""
    return start_sandbox("sandbox-stack")

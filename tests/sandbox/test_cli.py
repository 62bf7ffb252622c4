"""The `orders` commands behind the sandbox-* make targets, against a running sandbox."""

import pytest

from orders_lib.aws import clients
from orders_lib.cli import main


@pytest.fixture
def orders(stack_sandbox, capsys):
    clients.reset()

    def run(*args):
        code = main(["--endpoint", stack_sandbox.endpoint, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_create_view_and_watch_orders(orders, stack_aws, outputs):
    code, out, _ = orders("create-order", "--item", "PEN-RED:Red pen:3:2.25", "--key", "cli-test-1")
    assert code == 0 and "created: 6.75 EUR, status NEW" in out
    order_id = out.split()[1]
    code, out, _ = orders("create-order", "--item", "PEN-RED:Red pen:0:2.257")
    assert code == 1 and "items[0].quantity: must be between 1 and 1000" in out
    code, out, _ = orders("view-orders", "--limit", "50")
    assert code == 0 and order_id in out and "orderId" in out.splitlines()[0]
    code, out, _ = orders("watch-orders", "--rounds", "2", "--interval", "0.1")
    assert code == 0 and out.count("PROCESSED ") >= 2  # two refreshes, each with its counts line


def test_dlq_and_logs_commands(orders, stack_aws, outputs):
    code, out, _ = orders("logs", "create", "--minutes", "30")
    assert code == 0 and "START RequestId:" in out
    code, out, err = orders("dlq", "--purge")
    assert code == 2 and "--yes" in err
    code, out, _ = orders("dlq")
    assert code == 0 and ("The DLQ is empty." in out or "condition" in out)


def test_chaos_switches_and_status(orders, stack_sandbox, tmp_path):
    code, out, _ = orders("sandbox", "status", "--state-dir", str(tmp_path))
    assert code == 1 and "No sandbox running" in out
    from orders_lib.sandbox import control

    assert control.control(stack_sandbox.endpoint, "chaos", {"sns_publish_failure_rate": 0.5})["sns_publish_failure_rate"] == 0.5
    assert control.control(stack_sandbox.endpoint, "chaos", {"reset": True})["sns_publish_failure_rate"] == 0.0


def test_unknown_stack_is_a_clear_message(orders):
    code, _, err = orders("--stack", "no-such-stack", "view-orders")
    assert code == 1 and "stack 'no-such-stack' is not deployed" in err and "make sandbox-start" in err

"""``orders trace`` on the deployed stack: the same API calls as on AWS, answered by the sandbox."""

import re
import time

import pytest

from orders_lib.aws import clients
from orders_lib.aws.repository import OrderRepository
from orders_lib.cli import main
from orders_lib.ops import dlq
from orders_lib.ops.orders import build_request, invoke_create
from orders_lib.ops.stack import StackOutputs
from orders_lib.ops.trace import TraceTarget, trace
from orders_lib.sandbox import control
from sandbox_testing import wait_for


def request(key, quantity=2):
    return build_request("C-7", "Ada Lovelace", "ada@example.com", [("NB-A5", "Notebook", quantity, "4.50")], "EUR", key)


@pytest.fixture(scope="module")
def target(outputs):
    return TraceTarget.from_outputs(StackOutputs(dict(outputs)))


@pytest.fixture(scope="module")
def repo(stack_aws, outputs):
    return OrderRepository(stack_aws("dynamodb"), outputs["TableName"])


def traced(stack_aws, target, order_id, until):
    """The trace once ``until(trace)`` holds (logs and alarms arrive a moment after the writes)."""
    return wait_for(lambda: (t := trace(order_id, stack_aws, target)) and until(t) and t, timeout=20, message=f"trace of {order_id}")


def sources(result):
    return [step.source for step in result.steps]


def test_a_normal_order_is_created_processed_and_notified(stack_aws, outputs, target, repo):
    created = invoke_create(stack_aws("lambda"), outputs["CreateOrderFunctionName"], request("trace-normal-1"))
    order_id = created.order["orderId"]
    wait_for(lambda: (o := repo.get(order_id)) and o.notified_at, message="notified")
    result = traced(stack_aws, target, order_id, lambda t: "ProcessOrder" in sources(t) and "SNS" in sources(t))
    assert result.found and re.fullmatch(r"notified in [\d.]+ m?s(, slowest: .+)?", result.verdict)  # a cold start may take over a second
    [create] = [s for s in result.steps if s.source == "CreateOrder"]
    assert create.what == "CreateOrder answered 201 (created)"
    assert create.details["duration_ms"] > 0 and create.details["billed_ms"] >= create.details["duration_ms"]
    assert create.details["memory_mb"].endswith("/256")
    written = next(s for s in result.steps if s.what.startswith("written: status NEW"))
    assert written.details["stream_insert"] and written.details["ttl"]
    [batch] = [s for s in result.steps if s.source == "ProcessOrder"]
    assert "attempt 1: done" in batch.what and batch.details["sequence"] == written.details["stream_insert"]
    [publish] = [s for s in result.steps if s.source == "SNS"]
    assert publish.details["message_id"]
    notified = next(s for s in result.steps if s.what.startswith("PROCESSED"))
    assert notified.details["stream_modify"] and int(notified.details["stream_modify"]) > int(written.details["stream_insert"])
    assert [s.at for s in result.steps] == sorted(s.at for s in result.steps)  # oldest first
    rows = result.rows()
    assert rows[0]["gap_ms"] is None and all(r["gap_ms"] >= 0 for r in rows[1:])
    assert f"verdict: {result.verdict}" in result.to_table()


def test_a_repeated_request_shows_two_invocations_and_one_write(stack_aws, outputs, target, repo):
    function = outputs["CreateOrderFunctionName"]
    first = invoke_create(stack_aws("lambda"), function, request("trace-repeat-1"))
    order_id = first.order["orderId"]
    wait_for(lambda: (o := repo.get(order_id)) and o.notified_at, message="notified")
    again = invoke_create(stack_aws("lambda"), function, request("trace-repeat-1"))
    assert (first.status_code, again.status_code) == (201, 200)
    result = traced(stack_aws, target, order_id, lambda t: sources(t).count("CreateOrder") == 2 and "SNS" in sources(t))
    answers = [s.what for s in result.steps if s.source == "CreateOrder"]
    assert answers == ["CreateOrder answered 201 (created)", "CreateOrder answered 200 (a repeat: the stored order answered)"]
    assert sum(s.what.startswith("written:") for s in result.steps) == 1
    assert sources(result).count("ProcessOrder") == 1 and result.verdict.startswith("notified in")


def test_an_unknown_id_says_so_and_exits_1(stack_sandbox, stack_aws, target, capsys):
    result = trace("no-such-order-4242", stack_aws, target)
    assert not result.found and result.verdict == "unknown order id" and result.steps == []
    clients.reset()
    code = main(["--endpoint", stack_sandbox.endpoint, "trace", "no-such-order-4242"])
    captured = capsys.readouterr()
    assert code == 1 and "unknown order id" in captured.err and captured.out == ""


def test_the_cli_prints_the_timeline_and_the_verdict(stack_sandbox, stack_aws, outputs, repo, capsys):
    order_id = invoke_create(stack_aws("lambda"), outputs["CreateOrderFunctionName"], request("trace-cli-1")).order["orderId"]
    wait_for(lambda: (o := repo.get(order_id)) and o.notified_at, message="notified")
    clients.reset()
    code = main(["--endpoint", stack_sandbox.endpoint, "trace", order_id])
    out = capsys.readouterr().out
    assert code == 0 and out.startswith(f"order {order_id}") and "CreateOrder answered 201" in out
    assert out.rstrip().splitlines()[-1].startswith("verdict: notified in")


def test_a_poison_record_is_traced_to_the_dlq_with_its_attempts_and_reason(stack_aws, outputs, target):
    key = "trace-poison-1"
    stack_aws("dynamodb").put_item(TableName=outputs["TableName"], Item={"orderId": {"S": key}, "status": {"S": "NEW"}})
    # The trace reads the logs before the DLQ: wait for a trace whose reads both came after the fourth attempt.
    try:
        result = traced(stack_aws, target, key, lambda t: "DLQ" in sources(t) and sources(t).count("ProcessOrder") >= 4)
    finally:  # the DLQ is the session's: leave it as other tests expect it
        for batch in dlq.read_batches(stack_aws("sqs"), outputs["DlqUrl"]):
            if any(dlq.explain(r)["orderId"] == key for r in dlq.load_records(stack_aws("dynamodbstreams"), batch)):
                stack_aws("sqs").delete_message(QueueUrl=outputs["DlqUrl"], ReceiptHandle=batch.receipt_handle)
    attempts = [s for s in result.steps if s.source == "ProcessOrder"]
    assert [s.what.split(":")[0] for s in attempts] == [f"batch of 1, attempt {n}" for n in (1, 2, 3, 4)]
    assert all("batchItemFailures names it: record is not a valid order" in s.what for s in attempts)
    [entry] = [s for s in result.steps if s.source == "DLQ"]
    assert entry.details["condition"] == "RetryAttemptsExhausted" and entry.details["invocations"] == 4
    assert "not a valid order" in entry.details["why"]
    assert result.verdict.startswith("in the DLQ after 4 attempts: record is not a valid order: customer missing")
    assert "CreateOrder" not in sources(result)


def test_an_order_slowed_by_the_chaos_switch_names_the_slow_step(stack_sandbox, stack_aws, outputs, target, repo):
    function = outputs["ProcessOrderFunctionName"]
    control.control(stack_sandbox.endpoint, "chaos", {"function_delay_ms": {function: 1500}})
    try:
        order_id = invoke_create(stack_aws("lambda"), outputs["CreateOrderFunctionName"], request("trace-slow-1")).order["orderId"]
        wait_for(lambda: (o := repo.get(order_id)) and o.notified_at, timeout=30, message="notified")
    finally:
        control.control(stack_sandbox.endpoint, "chaos", {"reset": True})
    result = traced(stack_aws, target, order_id, lambda t: "ProcessOrder" in sources(t) and "SNS" in sources(t))
    match = re.fullmatch(r"notified in ([\d.]+) s, slowest: ProcessOrder batch of \d+, attempt 1 \(([\d.]+) s\)", result.verdict)
    assert match, result.verdict
    assert float(match.group(1)) >= 1.5 and float(match.group(2)) >= 1.5  # the invocation goes on a moment after SNS accepted
    [batch] = [s for s in result.steps if s.source == "ProcessOrder"]
    assert batch.details["duration_ms"] >= 1500


def test_an_expired_order_is_traced_through_its_ttl_removal(stack_aws, outputs, target, repo):
    order_id = invoke_create(stack_aws("lambda"), outputs["CreateOrderFunctionName"], request("trace-expired-1")).order["orderId"]
    wait_for(lambda: (o := repo.get(order_id)) and o.notified_at, message="notified")
    # Its TTL moved into the past (as seven days would): the sandbox's TTL process deletes it within a sweep.
    stack_aws("dynamodb").update_item(
        TableName=outputs["TableName"],
        Key={"orderId": {"S": order_id}},
        UpdateExpression="SET expiresAt = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 60)}},
    )
    wait_for(lambda: repo.get(order_id) is None, timeout=60, interval=0.5, message="the TTL process deleted the order")
    result = traced(stack_aws, target, order_id, lambda t: any(s.what == "REMOVE: expired (TTL)" for s in t.steps))
    assert result.found and re.fullmatch(r"notified in [\d.]+ m?s(, slowest: .*)?; removed from the table since", result.verdict)
    whats = [s.what for s in result.steps if s.source != "alarm"]  # other tests' alarms may change meanwhile
    assert "CreateOrder answered 201 (created)" in whats and whats.index("REMOVE: expired (TTL)") == len(whats) - 1
    assert any(s.source == "ProcessOrder" for s in result.steps)

"""The deployed stack, end to end on the sandbox, through its real endpoints."""

import json
import os
import socket
import subprocess
import sys

import pytest

from orders_lib.aws.repository import OrderRepository
from orders_lib.domain.notification import dedup_id
from orders_lib.ops.notifications import receive, subscribe_queue
from orders_lib.ops.orders import build_request, invoke_create
from orders_lib.sandbox import control
from sandbox_testing import wait_for


def request(key, quantity=2):
    return build_request("C-1", "Ada Lovelace", "ada@example.com", [("NB-A5", "Notebook", quantity, "4.50")], "EUR", key)


@pytest.fixture(scope="module")
def subscriber(stack_aws, outputs):
    return subscribe_queue(stack_aws("sns"), stack_aws("sqs"), outputs["TopicArn"], "pipeline-test-watch")


@pytest.fixture(scope="module")
def repo(stack_aws, outputs):
    return OrderRepository(stack_aws("dynamodb"), outputs["TableName"])


def notes_for(stack_aws, subscriber, seen, order_id):
    seen.extend(receive(stack_aws("sqs"), subscriber.queue_url, wait_s=0))
    return [n for n in seen if n["orderId"] == order_id]


def test_stack_outputs_name_every_resource(outputs):
    assert outputs["TableName"] == "techtest-orders"
    assert outputs["TopicArn"].endswith(":techtest-order-notifications")
    assert outputs["DlqUrl"].endswith("/techtest-orders-dlq")
    assert outputs["CreateOrderFunctionName"] == "techtest-create-order"
    assert outputs["ProcessOrderFunctionName"] == "techtest-process-order"


def test_an_order_is_processed_once_and_notified(stack_aws, outputs, repo, subscriber):
    created = invoke_create(stack_aws("lambda"), outputs["CreateOrderFunctionName"], request("e2e-1"))
    assert created.status_code == 201 and created.order["status"] == "NEW"
    order_id = created.order["orderId"]
    done = wait_for(lambda: (o := repo.get(order_id)) and o.notified_at and o, message="PROCESSED and notified")
    assert done.status.value == "PROCESSED" and done.processed_at >= done.created_at
    seen = []
    [note] = wait_for(lambda: notes_for(stack_aws, subscriber, seen, order_id), message="notification received")
    assert note["dedupId"] == dedup_id(order_id) and note["status"] == "PROCESSED"
    assert "customer" not in note and "Ada" not in json.dumps(note)


def test_invalid_requests_are_refused_and_nothing_is_written(stack_aws, outputs):
    before = stack_aws("dynamodb").scan(TableName=outputs["TableName"], Select="COUNT")["Count"]
    bad = invoke_create(stack_aws("lambda"), outputs["CreateOrderFunctionName"], {"customer": "x", "items": [], "currency": 1})
    assert bad.status_code == 400 and {e["field"] for e in bad.errors} == {"customer", "items", "currency"}
    assert stack_aws("dynamodb").scan(TableName=outputs["TableName"], Select="COUNT")["Count"] == before


def test_the_aws_cli_works_against_the_sandbox(stack_sandbox, outputs, repo, tmp_path):
    payload = tmp_path / "order.json"
    payload.write_text(json.dumps(request("cli-1")))
    result = tmp_path / "out.json"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    aws = [sys.executable, "-m", "awscli", "--endpoint-url", stack_sandbox.endpoint]
    subprocess.run(
        [*aws, "lambda", "invoke", "--function-name", outputs["CreateOrderFunctionName"], "--payload", f"fileb://{payload}", str(result)],
        check=True,
        env=env,
        capture_output=True,
    )
    body = json.loads(json.loads(result.read_text())["body"])
    order_id = body["order"]["orderId"]
    wait_for(lambda: (o := repo.get(order_id)) and o.status.value == "PROCESSED", message="CLI order processed")
    listed = subprocess.run(
        [*aws, "dynamodb", "get-item", "--table-name", outputs["TableName"], "--key", json.dumps({"orderId": {"S": order_id}})],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    )
    assert json.loads(listed.stdout)["Item"]["status"] == {"S": "PROCESSED"}


def test_function_logs_reach_cloudwatch_with_start_end_report(stack_aws, outputs):
    events = wait_for(
        lambda: stack_aws("logs").filter_log_events(logGroupName="/aws/lambda/techtest-create-order")["events"], message="log events"
    )
    messages = [e["message"] for e in events]
    assert any(m.startswith("START RequestId:") for m in messages)
    assert any(m.startswith("END RequestId:") for m in messages)
    report = next(m for m in messages if m.startswith("REPORT RequestId:"))
    assert "Duration:" in report and "Memory Size: 256 MB" in report
    assert any('"service":"create-order"' in m for m in messages)  # the function's own structured lines


def test_a_worker_killed_mid_batch_is_retried_and_the_order_processed_once(stack_sandbox, stack_aws, outputs, repo):
    control.control(stack_sandbox.endpoint, "chaos", {"function_crashes": {"techtest-process-order": 1}, "crash_after_ms": 5})
    try:
        created = invoke_create(stack_aws("lambda"), outputs["CreateOrderFunctionName"], request("crash-1"))
        order_id = created.order["orderId"]
        done = wait_for(lambda: (o := repo.get(order_id)) and o.notified_at and o, message="processed after the crash")
        assert done.status.value == "PROCESSED"
        assert control.control(stack_sandbox.endpoint, "chaos")["function_crashes"]["techtest-process-order"] == 0
        logs = stack_aws("logs").filter_log_events(logGroupName="/aws/lambda/techtest-process-order")["events"]
        assert any("Runtime exited with error: signal: killed" in e["message"] for e in logs)
    finally:
        control.control(stack_sandbox.endpoint, "chaos", {"reset": True})


def test_poison_records_end_in_the_dlq_with_their_on_failure_record(stack_aws, outputs):
    stack_aws("dynamodb").put_item(TableName=outputs["TableName"], Item={"orderId": {"S": "poison-e2e"}, "status": {"S": "NEW"}})
    from orders_lib.ops import dlq

    batches = wait_for(lambda: dlq.read_batches(stack_aws("sqs"), outputs["DlqUrl"]), timeout=20, message="DLQ record")
    batch = next(b for b in batches)
    batch.records = dlq.load_records(stack_aws("dynamodbstreams"), batch)
    assert batch.condition == "RetryAttemptsExhausted" and batch.invoke_count == 4  # 1 + 3 retries
    assert [r["dynamodb"]["Keys"]["orderId"]["S"] for r in batch.records] == ["poison-e2e"]
    assert "not a valid order" in batch.row()["why"]


def test_the_sandbox_listens_on_loopback_only(stack_sandbox):
    host = socket.gethostbyname(socket.gethostname())
    addresses = {a for a in [host] if not a.startswith("127.")}
    for address in addresses:
        with socket.socket() as probe:
            probe.settimeout(1)
            assert probe.connect_ex((address, stack_sandbox.port)) != 0
    with socket.create_connection(("127.0.0.1", stack_sandbox.port), timeout=1):
        pass


def test_a_second_start_reports_the_running_sandbox(stack_sandbox, tmp_path_factory):
    state_dir = next(p for p in tmp_path_factory.getbasetemp().iterdir() if p.name.startswith("sandbox-stack"))
    state, fresh = control.start(port=0, state_dir=state_dir)
    assert not fresh and state.pid == stack_sandbox.pid


def test_a_stale_state_file_is_cleaned_up(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    control.SandboxState(dead.pid, 1, "http://localhost:1", "ready", {}).write(tmp_path)
    assert control.running(tmp_path) is None
    assert not (tmp_path / control.STATE_FILE).exists()

"""The behaviour a user relies on, through the deployed stack's own endpoints."""

import uuid

from orders_lib.ops import dlq
from orders_lib.ops.notifications import receive, subscribe_queue, unsubscribe
from orders_lib.ops.orders import build_request
from sandbox_testing import wait_for


def request(key):
    return build_request("C-IT", "Integration Test", "it@example.com", [("NB-A5", "Notebook A5", 2, "4.50")], "EUR", key)


def test_an_order_is_processed_and_its_notification_received(bench, patience):
    watcher = subscribe_queue(bench.client("sns"), bench.client("sqs"), bench.outputs.topic_arn, f"it-watch-{uuid.uuid4().hex[:8]}")
    try:
        created = bench.create(request(f"it-{uuid.uuid4()}"))
        assert created.status_code == 201
        order_id = created.order["orderId"]
        wait_for(lambda: (bench.repository.get_item(order_id) or {}).get("notifiedAt"), patience, 0.5, "PROCESSED and notified")
        assert bench.repository.get_item(order_id)["status"] == "PROCESSED"
        seen = []
        wait_for(
            lambda: seen.extend(receive(bench.client("sqs"), watcher.queue_url)) or any(n["orderId"] == order_id for n in seen),
            patience,
            0.5,
            "notification received",
        )
        note = next(n for n in seen if n["orderId"] == order_id)
        assert note["dedupId"] == f"{order_id}:ORDER_PROCESSED" and "customer" not in note
    finally:
        unsubscribe(bench.client("sns"), bench.client("sqs"), watcher)


def test_a_repeat_returns_the_same_order_and_an_invalid_request_writes_nothing(bench):
    key = f"it-{uuid.uuid4()}"
    first, again = bench.create(request(key)), bench.create(request(key))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.order["orderId"] == first.order["orderId"]
    bad = bench.create({"customer": {"customerId": "C-1"}, "items": [], "currency": "EUR"})
    assert bad.status_code == 400 and {e["field"] for e in bad.errors} >= {"customer.name", "customer.email", "items"}


def test_a_record_that_is_not_an_order_reaches_the_dlq(bench, patience):
    key = f"it-poison-{uuid.uuid4().hex[:8]}"
    bench.client("dynamodb").put_item(TableName=bench.outputs.table_name, Item={"orderId": {"S": key}, "status": {"S": "NEW"}})

    def covered():
        found = dlq.read_batches(bench.client("sqs"), bench.outputs.dlq_url)
        for batch in found:
            batch.records = dlq.load_records(bench.client("dynamodbstreams"), batch)
        return [b for b in found if key in b.row()["orders"]]

    [batch] = wait_for(covered, patience, 0.5, "on-failure record for the poison item")
    assert batch.condition == "RetryAttemptsExhausted" and "not a valid order" in batch.row()["why"]
    bench.client("sqs").delete_message(QueueUrl=bench.outputs.dlq_url, ReceiptHandle=batch.receipt_handle)

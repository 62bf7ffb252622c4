import json

import pytest

from orders_lib.aws.repository import to_attribute_map
from orders_lib.ops.dlq import FailedBatch, explain, purge

from .test_model import make_order

ON_FAILURE = {
    "requestContext": {
        "requestId": "r-1",
        "functionArn": "arn:aws:lambda:us-east-1:1:function:f",
        "condition": "RetryAttemptsExhausted",
        "approximateInvokeCount": 4,
    },
    "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
    "version": "1.0",
    "timestamp": "2026-11-26T12:00:00.000Z",
    "DDBStreamBatchInfo": {
        "shardId": "shardId-0001",
        "startSequenceNumber": "100",
        "endSequenceNumber": "102",
        "approximateArrivalOfFirstRecord": "2026-11-26T12:00:00.000Z",
        "approximateArrivalOfLastRecord": "2026-11-26T12:00:00.000Z",
        "batchSize": 3,
        "streamArn": "arn:aws:dynamodb:us-east-1:1:table/t/stream/x",
    },
}


def message(body):
    return {"MessageId": "m-1", "ReceiptHandle": "h-1", "Body": json.dumps(body)}


def test_an_on_failure_record_is_decoded_from_sqs_or_through_sns():
    direct = FailedBatch.decode(message(ON_FAILURE))
    via_sns = FailedBatch.decode(message({"Type": "Notification", "Message": json.dumps(ON_FAILURE)}))
    for batch in (direct, via_sns):
        assert (batch.condition, batch.invoke_count, batch.function_error) == ("RetryAttemptsExhausted", 4, "Unhandled")
        assert (batch.start_sequence, batch.end_sequence, batch.batch_size) == ("100", "102", 3)


def test_explain_says_why_a_record_was_refused():
    valid = {"eventName": "INSERT", "dynamodb": {"Keys": {"orderId": {"S": "o-1"}}, "NewImage": to_attribute_map(make_order().to_item())}}
    poison = {"eventName": "INSERT", "dynamodb": {"Keys": {"orderId": {"S": "p-1"}}, "NewImage": {"orderId": {"S": "p-1"}}}}
    modify = {"eventName": "MODIFY", "dynamodb": {"Keys": {"orderId": {"S": "o-2"}}}}
    assert explain(valid)["why"].startswith("valid order")
    assert explain(poison)["orderId"] == "p-1" and explain(poison)["why"].startswith("not a valid order: customer missing")
    assert explain(modify) == {"orderId": "o-2", "why": "MODIFY event"}


def test_a_batch_row_names_the_orders_it_covers():
    batch = FailedBatch.decode(message(ON_FAILURE))
    assert batch.row()["orders"] == "(records no longer in the stream)"
    batch.records = [{"eventName": "INSERT", "dynamodb": {"Keys": {"orderId": {"S": "p-1"}}, "NewImage": {"orderId": {"S": "p-1"}}}}]
    row = batch.row()
    assert row["orders"] == "p-1" and row["batch size"] == 3 and row["sequence range"] == "100..102"


class Queue:
    def __init__(self):
        self.purged = False

    def get_queue_attributes(self, **_):
        return {"Attributes": {"ApproximateNumberOfMessages": "2"}}

    def purge_queue(self, **_):
        self.purged = True


def test_purge_needs_a_confirmation():
    queue = Queue()
    with pytest.raises(PermissionError, match="2 message"):
        purge(queue, "url", confirmed=False)
    assert not queue.purged
    assert purge(queue, "url", confirmed=True) == 2 and queue.purged

from decimal import Decimal

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from orders_lib.aws.notifier import SnsNotifier
from orders_lib.domain.notification import BODY_KEYS, build_notification, dedup_id

from .test_model import make_order


class RecordingSns:
    """Stands in for the SNS client where AWS's partial failures must be produced."""

    def __init__(self, fail_ids=(), error=None):
        self.calls, self.fail_ids, self.error = [], set(fail_ids), error

    def publish_batch(self, TopicArn, PublishBatchRequestEntries):
        self.calls.append(PublishBatchRequestEntries)
        if self.error:
            raise self.error
        ok = [{"Id": e["Id"], "MessageId": "m"} for e in PublishBatchRequestEntries if e["Id"] not in self.fail_ids]
        bad = [
            {"Id": e["Id"], "Code": "InternalError", "Message": "boom", "SenderFault": False}
            for e in PublishBatchRequestEntries
            if e["Id"] in self.fail_ids
        ]
        return {"Successful": ok, "Failed": bad}


def orders(n):
    return [make_order(order_id=f"o-{i}") for i in range(n)]


def test_publishes_in_batches_of_at_most_ten(notifier, subscriber):
    report = notifier.publish(orders(23))
    assert len(report.published) == 23 and not report.failed
    received = subscriber.messages()
    assert sorted(m["body"]["orderId"] for m in received) == sorted(f"o-{i}" for i in range(23))
    sns = RecordingSns()
    SnsNotifier(sns, "arn").publish(orders(23))
    assert [len(call) for call in sns.calls] == [10, 10, 3]


def test_message_carries_no_personal_data_and_a_stable_dedup_id(notifier, subscriber):
    order = make_order()
    notifier.publish([order])
    [message] = subscriber.messages()
    assert set(message["body"]) == BODY_KEYS
    text = str(message)
    for personal in ("Ada", "ada@example.com", "C-1"):
        assert personal not in text
    assert message["body"]["dedupId"] == dedup_id("o-1") == build_notification(order).dedup_id
    assert message["body"]["total"] == "5.35"
    assert message["attributes"]["currency"]["Value"] == "EUR"
    assert message["attributes"]["eventType"]["Value"] == "ORDER_PROCESSED"


def test_partial_batch_failures_map_back_to_their_orders():
    report = SnsNotifier(RecordingSns(fail_ids={"n1"}), "arn").publish(orders(3))
    assert report.published == ["o-0", "o-2"]
    assert report.failed == {"o-1": "InternalError: boom"}


@pytest.mark.parametrize(
    "error",
    [
        ClientError({"Error": {"Code": "KMSThrottlingException", "Message": "slow down"}}, "PublishBatch"),
        EndpointConnectionError(endpoint_url="http://localhost:1"),
    ],
)
def test_a_failed_call_fails_every_order_in_it(error):
    report = SnsNotifier(RecordingSns(error=error), "arn").publish(orders(12))
    assert not report.published and len(report.failed) == 12


def test_total_in_message_is_exact():
    note = build_notification(make_order(items=make_order().items[:1]))
    assert note.body["total"] == str(Decimal("3.30"))

"""The sandbox's fixes to moto, each checked on moto in process."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws
from moto.sqs.models import Queue, SQSBackend

from orders_lib.sandbox import moto_hooks


@pytest.fixture
def sqs(monkeypatch):
    monkeypatch.setattr(SQSBackend, "is_message_valid_based_on_retention_period", moto_hooks.message_within_retention)
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def test_receiving_does_not_build_the_queues_attributes_per_message(sqs, monkeypatch):
    """moto built every attribute of the queue (a walk over all its messages) for each
    message received: quadratic in the queue's length."""
    url = sqs.create_queue(QueueName="many")["QueueUrl"]
    for start in range(0, 200, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{start + i}"} for i in range(10)])
    built = []
    original = Queue.attributes
    monkeypatch.setattr(Queue, "attributes", property(lambda queue: built.append(1) or original.fget(queue)))
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(received) == 10
    assert built == []


def test_messages_past_the_retention_period_are_still_dropped(sqs, monkeypatch):
    url = sqs.create_queue(QueueName="short", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="old")
    later = moto_hooks.unix_time() + 61
    monkeypatch.setattr(moto_hooks, "unix_time", lambda: later)
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages") is None
    monkeypatch.setattr(moto_hooks, "unix_time", lambda: later - 2)
    sqs.send_message(QueueUrl=url, MessageBody="young")  # sent "now", well inside 60 s
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]] == ["young"]

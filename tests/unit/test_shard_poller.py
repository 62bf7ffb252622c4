"""A shard poller never moves past records it has not evaluated, driven in process step by step."""

from __future__ import annotations

import pytest

from orders_lib.sandbox.lambda_.event_source_mapping import shard_poller
from orders_lib.sandbox.lambda_.event_source_mapping.config import MappingConfig
from orders_lib.sandbox.lambda_.event_source_mapping.retries import InvokeResult
from orders_lib.sandbox.lambda_.event_source_mapping.shard_poller import ShardPoller

from .events import STREAM_ARN, stream_record


class ListReader:
    """A shard as a list, read through ``index`` iterators, as the sandbox's reader reads moto's."""

    def __init__(self, records):
        self.records = records
        self.reads = []  # the iterators read from, in order

    def shard_ids(self, stream_arn):
        return ["shardId-1"]

    def iterator(self, stream_arn, shard_id, position):
        return "0"

    def read(self, iterator, limit):
        self.reads.append(iterator)
        start = int(iterator)
        found = self.records[start : start + limit]
        return found, str(start + len(found))


def key(record):
    return record["dynamodb"]["Keys"]["orderId"]["S"]


@pytest.fixture
def shard():
    return [stream_record("INSERT", new={"orderId": f"o-{n}", "status": "NEW"}) for n in range(3)]


def poller_for(reader, filters=()):
    batches = []

    def invoke(function_arn, event):
        batches.append([key(r) for r in event["Records"]])
        return InvokeResult("request-1", None)

    config = MappingConfig("uuid-1", "arn:aws:lambda:us-east-1:123456789012:function:f", STREAM_ARN, filters=list(filters))
    poller = ShardPoller(config, "shardId-1", reader, invoke, lambda arn, record: None, sleep=lambda s: None)
    return poller, batches


def step(poller):
    """One pass of ``ShardPoller.run``'s loop, which logs and carries on when a step raises."""
    try:
        return poller.step()
    except Exception:  # noqa: BLE001 - as run() does
        return False


def test_records_whose_filters_raise_stay_in_the_stream_and_are_delivered_later(shard, monkeypatch):
    """The second record's evaluation fails once: nothing is buffered, delivered or checkpointed,
    and the next poll reads all three again."""
    calls = []
    evaluate = shard_poller.passes

    def flaky(patterns, record):
        calls.append(key(record))
        if calls == ["o-0", "o-1"]:
            raise RuntimeError("the filters could not be evaluated")
        return evaluate(patterns, record)

    monkeypatch.setattr(shard_poller, "passes", flaky)
    poller, batches = poller_for(ListReader(shard), filters=[{"eventName": ["INSERT"]}])
    assert step(poller) is False
    assert batches == [] and poller.checkpoint is None and poller.pending == 0
    assert poller.stats.filter_errors == 1
    assert poller.stats.last_result.startswith("PROBLEM: FilterCriteria could not be evaluated: RuntimeError(")
    assert step(poller) is True
    assert batches == [["o-0", "o-1", "o-2"]]
    assert poller.checkpoint == shard[-1]["dynamodb"]["SequenceNumber"] and poller.stats.last_result == "OK"


def test_a_pattern_the_poller_cannot_evaluate_loses_no_record(shard):
    """A pattern past validation (``wildcard`` is not Lambda's): the poller keeps trying, reads
    the same records each time, and the position stays before them."""
    reader = ListReader(shard)
    poller, batches = poller_for(reader, filters=[{"dynamodb": {"NewImage": {"orderId": {"S": [{"wildcard": "o-*"}]}}}}])
    for _ in range(3):
        step(poller)
    assert reader.reads == ["0", "0", "0"]  # the same three records, each time
    assert batches == [] and poller.checkpoint is None and poller.pending == 0
    assert poller.stats.filter_errors == 3 and poller.stats.records_filtered == 0
    assert poller.stats.last_result.startswith("PROBLEM: FilterCriteria could not be evaluated")

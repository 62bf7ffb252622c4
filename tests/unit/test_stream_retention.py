"""DynamoDB Streams' retention in the sandbox: records trimmed at 24 h, iterators expired at 15 min."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws
from moto.dynamodbstreams.models import dynamodbstreams_backends

from orders_lib.sandbox.dynamodb import moto_patches as dynamodb_patches
from orders_lib.sandbox.dynamodb.retention import (
    ITERATOR_LIFETIME_S,
    RECORD_RETENTION_S,
    ExpiredIterator,
    StreamRetention,
    TrimmedDataAccess,
)
from orders_lib.sandbox.dynamodb.streams import MotoStreamReader, horizon, trim

ACCOUNT, REGION = "123456789012", "eu-west-1"
DAY = RECORD_RETENTION_S


def test_trimming_removes_old_records_from_the_front_and_moves_the_horizon():
    shard = SimpleNamespace(starting_sequence_number=1000, items=[SimpleNamespace(created=t) for t in (1.0, 2.0, 5.0, 3.0, 9.0)])
    assert horizon(shard) == 1000
    assert trim(shard, before=4.0) == 2  # 1.0 and 2.0; 3.0 waits behind the younger 5.0 (a reset clock)
    assert horizon(shard) == 1002 and [r.created for r in shard.items] == [5.0, 3.0, 9.0]
    assert trim(shard, before=4.0) == 0
    assert trim(shard, before=100.0) == 3 and horizon(shard) == 1005 and shard.items == []


@pytest.fixture
def stream():
    """A table with a stream in moto, the sandbox's patches installed, and a clock the test moves."""
    clock = SimpleNamespace(now=1_000_000.0)
    dynamodb_patches.install(lambda table: None, now=lambda: clock.now)
    try:
        with mock_aws():
            client = boto3.client("dynamodb", region_name=REGION)
            client.create_table(
                TableName="t",
                KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
                StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            )
            arn = client.describe_table(TableName="t")["Table"]["LatestStreamArn"]
            yield SimpleNamespace(client=client, arn=arn, clock=clock, retention=StreamRetention(ACCOUNT, REGION))
    finally:
        dynamodb_patches.uninstall()


def _put(stream, *keys):
    for key in keys:
        stream.client.put_item(TableName="t", Item={"k": {"S": key}})


def _keys(records):
    return [r["dynamodb"]["Keys"]["k"]["S"] for r in records]


def test_the_mappings_reader_continues_at_the_trim_point(stream, caplog):
    reader = MotoStreamReader(ACCOUNT, REGION)
    shard_id = reader.shard_ids(stream.arn)[0]
    start = reader.iterator(stream.arn, shard_id, "TRIM_HORIZON")
    _put(stream, "old-1", "old-2")
    stream.clock.now += DAY / 2
    _put(stream, "young")
    stream.clock.now += DAY / 2 + 1  # old-1 and old-2 are a day and a second old
    assert stream.retention.sweep(stream.clock.now) == 2 and stream.retention.trimmed == 2
    with caplog.at_level(logging.WARNING):
        records, following = reader.read(start, 10)
    assert _keys(records) == ["young"] and "2 stream record(s) were trimmed" in caplog.text
    assert [int(r["dynamodb"]["SequenceNumber"]) for r in records] == [int(start.rpartition("|")[2]) + 2]
    _put(stream, "new")
    assert _keys(reader.read(following, 10)[0]) == ["new"]
    assert _keys(reader.read(reader.iterator(stream.arn, shard_id, "TRIM_HORIZON"), 10)[0]) == ["young", "new"]
    assert reader.read(reader.iterator(stream.arn, shard_id, "LATEST"), 10)[0] == []


def test_the_streams_api_refuses_trimmed_positions_as_aws_does(stream):
    streams = dynamodbstreams_backends[ACCOUNT][REGION]
    _put(stream, "old")
    stream.clock.now += DAY / 2
    _put(stream, "young")
    shard_id = streams.describe_stream(stream.arn)["Shards"][0]["ShardId"]
    old_iterator = streams.get_shard_iterator(stream.arn, shard_id, "TRIM_HORIZON").arn
    first = int(streams.get_records(old_iterator, 10)["Records"][0]["dynamodb"]["SequenceNumber"])
    stream.clock.now += DAY / 2 + 1
    stream.retention.sweep(stream.clock.now)

    with pytest.raises(TrimmedDataAccess, match=f"sequence number {first} was trimmed"):
        streams.get_shard_iterator(stream.arn, shard_id, "AT_SEQUENCE_NUMBER", first)
    with pytest.raises(TrimmedDataAccess):  # an iterator returned before its records were trimmed
        streams.get_records(old_iterator, 10)
    horizon_iterator = streams.get_shard_iterator(stream.arn, shard_id, "TRIM_HORIZON").arn
    kept = streams.get_records(horizon_iterator, 10)["Records"]
    assert _keys(kept) == ["young"] and int(kept[0]["dynamodb"]["SequenceNumber"]) == first + 1
    after = streams.get_shard_iterator(stream.arn, shard_id, "AFTER_SEQUENCE_NUMBER", first + 1).arn
    _put(stream, "newest")
    assert _keys(streams.get_records(after, 10)["Records"]) == ["newest"]
    latest = streams.get_shard_iterator(stream.arn, shard_id, "LATEST").arn
    assert streams.get_records(latest, 10)["Records"] == []


def test_shard_iterators_expire_after_15_minutes(stream, monkeypatch):
    streams = dynamodbstreams_backends[ACCOUNT][REGION]
    shard_id = streams.describe_stream(stream.arn)["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(stream.arn, shard_id, "TRIM_HORIZON")
    fresh = streams.get_shard_iterator(stream.arn, shard_id, "TRIM_HORIZON")
    iterator.created -= ITERATOR_LIFETIME_S + 1
    stream.retention.sweep(fresh.created)
    assert stream.retention.expired_iterators == 1
    with pytest.raises(ExpiredIterator):
        streams.get_records(iterator.arn, 10)
    assert streams.get_records(fresh.arn, 10)["Records"] == []

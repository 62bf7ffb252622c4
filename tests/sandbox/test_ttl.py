"""TTL on a real sandbox: expired items deleted within a sweep, with the TTL process's
REMOVE record; the sandbox clock makes days pass; ProcessOrder's filter drops the removal."""

from __future__ import annotations

import time

import pytest

from orders_lib.sandbox import control
from sandbox_testing import wait_for

SWEEP_BOUND_S = 60  # the sandbox sweeps every 10 s by default


@pytest.fixture
def clock(request):
    """Advance the sandbox clock in a test; always put it back."""
    endpoints = []

    def advance(endpoint, duration):
        endpoints.append(endpoint)
        return control.control(endpoint, "clock", {"advance": duration})

    yield advance
    for endpoint in endpoints:
        control.control(endpoint, "clock", {"reset": True})


def number(value):
    return {"N": str(int(value))}


def test_expired_items_are_deleted_by_the_ttl_process(aws, scenario):
    s = scenario()
    aws("dynamodb").update_time_to_live(TableName=s.name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"})
    now = time.time()
    ddb = aws("dynamodb")
    ddb.put_item(TableName=s.name, Item={"pk": {"S": "expired"}, "expiresAt": number(now - 60)})
    ddb.put_item(TableName=s.name, Item={"pk": {"S": "future"}, "expiresAt": number(now + 3600)})
    ddb.put_item(TableName=s.name, Item={"pk": {"S": "not-a-number"}, "expiresAt": {"S": str(int(now - 60))}})
    ddb.put_item(TableName=s.name, Item={"pk": {"S": "ancient"}, "expiresAt": number(now - 6 * 365 * 86400)})

    def keys():
        return sorted(i["pk"]["S"] for i in ddb.scan(TableName=s.name, ConsistentRead=True)["Items"])

    wait_for(lambda: "expired" not in keys(), timeout=SWEEP_BOUND_S, interval=0.5, message="the expired item deleted")
    assert keys() == ["ancient", "future", "not-a-number"]

    stream = aws("dynamodbstreams")
    shard = stream.describe_stream(StreamArn=s.stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = stream.get_shard_iterator(StreamArn=s.stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    removals = [r for r in stream.get_records(ShardIterator=iterator)["Records"] if r["eventName"] == "REMOVE"]
    assert len(removals) == 1 and removals[0]["dynamodb"]["Keys"] == {"pk": {"S": "expired"}}
    assert removals[0]["userIdentity"] == {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}

    def removal_delivered():
        batches = s.invocations()
        return [ident for batch in batches for name, ident in zip(batch["names"], batch["identities"], strict=True) if name == "REMOVE"]

    delivered = wait_for(removal_delivered, timeout=20, message="the REMOVE record delivered to the mapped function")
    assert delivered == [{"type": "Service", "principalId": "dynamodb.amazonaws.com"}]


def test_a_user_delete_carries_no_ttl_identity(aws, scenario):
    s = scenario()
    s.put("mine")
    aws("dynamodb").delete_item(TableName=s.name, Key={"pk": {"S": "mine"}})

    def removal():
        return [
            ident for batch in s.invocations() for name, ident in zip(batch["names"], batch["identities"], strict=True) if name == "REMOVE"
        ]

    assert wait_for(removal, timeout=20, message="the REMOVE record") == [None]


def test_the_sandbox_clock_lets_seven_days_pass_for_ttl(aws, bare_sandbox, scenario, clock):
    s = scenario()
    aws("dynamodb").update_time_to_live(TableName=s.name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"})
    aws("dynamodb").put_item(TableName=s.name, Item={"pk": {"S": "week"}, "expiresAt": number(time.time() + 7 * 86400)})
    time.sleep(0.5)
    assert aws("dynamodb").get_item(TableName=s.name, Key={"pk": {"S": "week"}}).get("Item")
    moved = clock(bare_sandbox.endpoint, "169h")  # a week and an hour
    assert moved["offset_s"] == 169 * 3600
    wait_for(
        lambda: "Item" not in aws("dynamodb").get_item(TableName=s.name, Key={"pk": {"S": "week"}}),
        timeout=10,
        message="the week-old item deleted right after the clock moved",
    )


def test_process_order_never_sees_an_expired_order(stack_aws, stack_sandbox, outputs, clock):
    import random

    from orders_lib.ops.orders import invoke_create, random_request

    result = invoke_create(stack_aws("lambda"), outputs["CreateOrderFunctionName"], random_request(random.Random(41)))
    order_id = result.order["orderId"]
    table = outputs["TableName"]

    def status():
        item = stack_aws("dynamodb").get_item(TableName=table, Key={"orderId": {"S": order_id}}, ConsistentRead=True).get("Item")
        return item and item["status"]["S"]

    wait_for(lambda: status() == "PROCESSED", timeout=20, message="the order PROCESSED")
    time.sleep(1.0)  # let the mapping read past the PROCESSED update
    before = control.control(stack_sandbox.endpoint, "mappings")[outputs["EventSourceMappingId"]]["shards"][0]
    clock(stack_sandbox.endpoint, "8d")
    wait_for(lambda: status() is None, timeout=10, message="the order expired")

    def filtered():
        after = control.control(stack_sandbox.endpoint, "mappings")[outputs["EventSourceMappingId"]]["shards"][0]
        return after["records_filtered"] > before["records_filtered"] and after

    after = wait_for(filtered, timeout=10, message="the REMOVE record read and dropped by the filter")
    assert after["invocations"] == before["invocations"], "ProcessOrder was invoked for a TTL removal"


def test_stream_records_are_trimmed_after_24_hours_on_the_sandbox_clock(aws, bare_sandbox, scenario, clock):
    from botocore.exceptions import ClientError

    s = scenario()
    s.put("day-old")
    wait_for(lambda: any("day-old" in batch["keys"] for batch in s.invocations()), timeout=20, message="the first record delivered")
    stream = aws("dynamodbstreams")
    shard = stream.describe_stream(StreamArn=s.stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    first = stream.get_shard_iterator(StreamArn=s.stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    sequence = stream.get_records(ShardIterator=first)["Records"][0]["dynamodb"]["SequenceNumber"]

    before = control.control(bare_sandbox.endpoint, "clock")["stream_records_trimmed"]  # earlier tests' clock moves trimmed too
    moved = clock(bare_sandbox.endpoint, "25h")
    trimmed = wait_for(
        lambda: (control.control(bare_sandbox.endpoint, "clock")["stream_records_trimmed"] - before) or None,
        timeout=10,
        message="the day-old record trimmed right after the clock moved",
    )
    assert trimmed >= 1 and moved["offset_s"] == 25 * 3600

    def refusal():
        try:
            stream.get_shard_iterator(
                StreamArn=s.stream_arn, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=sequence
            )
        except ClientError as error:
            return error
        return None  # other tables' records may be trimmed first: this one's follow within the sweep

    refused = wait_for(refusal, timeout=10, message="the trimmed record refused")
    assert refused.response["Error"]["Code"] == "TrimmedDataAccessException"
    horizon = stream.get_shard_iterator(StreamArn=s.stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert stream.get_records(ShardIterator=horizon)["Records"] == []

    s.put("after-the-trim")  # the mapping carries on from the trim point
    wait_for(lambda: any("after-the-trim" in batch["keys"] for batch in s.invocations()), timeout=20, message="a new record delivered")

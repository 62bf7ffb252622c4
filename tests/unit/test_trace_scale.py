"""make bench's trace section, its parts with fakes: the copies' new ids, the spread of the
traced orders, PutLogEvents' limits and the calls counted."""

from __future__ import annotations

import re

from orders_lib.bench import trace_scale

UUID = "0f0e0d0c-0b0a-4908-8706-050403020100"


class FakeLogs:
    class exceptions:
        class ResourceAlreadyExistsException(Exception):
            pass

    def __init__(self):
        self.streams, self.calls = set(), []

    def create_log_stream(self, logGroupName, logStreamName):
        if (logGroupName, logStreamName) in self.streams:
            raise self.exceptions.ResourceAlreadyExistsException()
        self.streams.add((logGroupName, logStreamName))

    def put_log_events(self, logGroupName, logStreamName, logEvents):
        self.calls.append(logEvents)


def test_a_copy_renames_every_uuid_the_same_way_within_one_order():
    names = {UUID: "order-copy"}
    line = f'{{"orderId": "{UUID}", "function_request_id": "11111111-2222-4333-8444-555555555555"}}'
    first = trace_scale._renamed(line, names)
    again = trace_scale._renamed("REPORT RequestId: 11111111-2222-4333-8444-555555555555\tDuration: 1 ms", names)
    assert '"orderId": "order-copy"' in first and UUID not in first
    request = names["11111111-2222-4333-8444-555555555555"]
    assert request in first and request in again and re.fullmatch(r"[0-9a-f-]{36}", request)


def test_events_go_in_time_order_within_putlogevents_limits():
    logs = FakeLogs()
    events = [(1000 + n % 7, "x" * 200) for n in range(12_000)]
    trace_scale._put_events(logs, "/aws/lambda/f", events)
    trace_scale._put_events(logs, "/aws/lambda/f", events[:3])  # the stream exists: used again
    sizes = [len(batch) for batch in logs.calls]
    assert sum(sizes) == 12_003 and all(s <= 10_000 for s in sizes)
    assert all(sum(len(e["message"]) + 26 for e in batch) <= 1_048_576 for batch in logs.calls)
    assert all([e["timestamp"] for e in batch] == sorted(e["timestamp"] for e in batch) for batch in logs.calls)


class FakeScan:
    def __init__(self, items):
        self.items = items

    def get_paginator(self, name):
        items = self.items

        class Pages:
            def paginate(self, **_):
                return [{"Items": items[:3], "Count": 3}, {"Items": items[3:], "Count": len(items) - 3}]

        return Pages()


def test_the_traced_orders_span_the_run_oldest_to_newest_notified_only():
    items = [{"orderId": {"S": f"o-{n}"}, "createdAt": {"S": f"2026-11-30T10:00:{n:02d}Z"}} for n in range(9)]
    for item in items[:8]:
        item["notifiedAt"] = {"S": "later"}
    scan = FakeScan(items[::-1])
    assert trace_scale.count_items(scan, "t") == 9
    assert trace_scale.notified_orders(scan, "t", 3) == ["o-0", "o-4", "o-7"]  # o-8 is not notified
    assert trace_scale.notified_orders(scan, "t", 20) == [f"o-{n}" for n in range(8)]


class _Body:
    def stream(self, **_):
        yield b'{"Item": {}}'


def test_calls_are_counted_and_timed_by_operation():
    import boto3
    from botocore.awsrequest import AWSResponse

    made = []

    def make(service):
        client = boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
        client.meta.events.register("before-send", lambda request, **_: AWSResponse(request.url, 200, {}, _Body()))  # no network
        made.append(service)
        return client

    counted = trace_scale.CountingClients(make)
    counted("dynamodb").get_item(TableName="t", Key={"k": {"S": "1"}})
    counted("dynamodb").get_item(TableName="t", Key={"k": {"S": "2"}})
    assert made == ["dynamodb"] and counted.calls == {"dynamodb.GetItem": 2}
    assert counted.seconds["dynamodb.GetItem"] > 0 and set(counted.seconds) == {"dynamodb.GetItem"}

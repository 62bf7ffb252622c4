"""Reconciliation rules: what counts as processed, notified, lost, duplicated, in the DLQ."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from orders_lib.domain.model import InvalidOrder, Order, OrderStatus
from orders_lib.domain.notification import dedup_id
from orders_lib.ops import reconcile
from orders_lib.ops.dlq import FailedBatch
from orders_lib.pipeline.create import create_order
from orders_lib.sandbox.lambda_.event_source_mapping.filtering import matches

from .conftest import TABLE, valid_request
from .events import stream_record

NEW_ORDER_INSERTS = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"status": {"S": ["NEW"]}}}}


class Memory:
    def create(self, order):
        return order, True


def order(key, clock):
    return create_order(valid_request(idempotencyKey=key), Memory(), clock).order


def history(item, *, process=True, notify=True, extra_transitions=0):
    """The stream records a correct (or faulty) pipeline leaves for one order."""
    new = dict(item)
    records = [stream_record("INSERT", new=new)]
    done = {**new, "status": "PROCESSED", "processedAt": "2026-11-26T12:00:01.000Z"}
    if process:
        records.append(stream_record("MODIFY", new=done, old=new))
        for n in range(extra_transitions):
            again = {**done, "processedAt": f"2026-11-26T12:00:0{n + 2}.000Z"}
            records.append(stream_record("MODIFY", new=again, old=done))
    if process and notify:
        records.append(stream_record("MODIFY", new={**done, "notifiedAt": "2026-11-26T12:00:01.100Z"}, old=done))
    final = records[-1]["dynamodb"].get("NewImage")
    return records, final


def note(order_id):
    return {"orderId": order_id, "dedupId": dedup_id(order_id), "status": "PROCESSED"}


def batch(*records, condition="RetryAttemptsExhausted"):
    found = FailedBatch("m", "r", condition, 4, None, "shard", "1", "2", len(records), "arn", "t")
    found.records = list(records)
    return found


def table_of(records):
    from orders_lib.aws.repository import from_attribute_map

    items = {}
    for record in records:
        image = record["dynamodb"].get("NewImage")
        if image:
            item = from_attribute_map(image)
            items[item["orderId"]] = item
    return list(items.values())


@pytest.fixture
def good_run(clock):
    orders = [order(f"k{i}", clock) for i in range(3)]
    records = [r for o in orders for r in history(o.to_item())[0]]
    return orders, records


def test_a_clean_run_accounts_for_every_order(good_run):
    orders, records = good_run
    poison = stream_record("INSERT", new={"orderId": "p-1", "status": "NEW"})
    result = reconcile.reconcile(
        [o.order_id for o in orders],
        ["p-1"],
        table_of([*records, poison]),
        [*records, poison],
        [note(o.order_id) for o in orders],
        [batch(poison)],
    )
    assert result.row() == {"created": 3, "processed": 3, "notified": 3, "in_dlq": 1, "lost": 0, "duplicated_transitions": 0}
    assert result.ok and not result.problems
    assert result.table().splitlines()[0].split() == list(reconcile.COLUMNS)


def test_a_second_transition_is_counted_even_when_the_status_looks_right(clock):
    o = order("k1", clock)
    records, _ = history(o.to_item(), extra_transitions=1)
    result = reconcile.reconcile([o.order_id], [], table_of(records), records, [note(o.order_id)], [])
    assert result.duplicated_transitions == 1 and not result.ok
    assert "2 state changes" in result.problems[0]


def test_recording_notified_at_is_not_a_state_change(clock):
    o = order("k1", clock)
    records, _ = history(o.to_item())
    assert reconcile.transitions_by_order(records) == {o.order_id: 1}
    assert len([r for r in records if r["eventName"] == "MODIFY"]) == 2


def test_an_order_left_new_is_lost_and_says_where_it_is(clock):
    o = order("k1", clock)
    records, _ = history(o.to_item(), process=False)
    result = reconcile.reconcile([o.order_id], [], table_of(records), records, [], [batch(records[0])])
    assert result.lost == 1 and result.processed == 0 and not result.ok
    assert "status NEW (its record is in the DLQ)" in result.problems[0]
    stuck = reconcile.reconcile([o.order_id], [], table_of(records), records, [], [])
    assert "stuck" in stuck.problems[0]


def test_a_processed_order_without_a_notification_is_lost(clock):
    o = order("k1", clock)
    records, _ = history(o.to_item(), notify=False)
    result = reconcile.reconcile([o.order_id], [], table_of(records), records, [], [batch(records[0])])
    assert result.lost == 1 and result.notified == 0 and "redrive it" in result.problems[0]


def test_an_order_missing_from_the_table_is_lost(clock):
    o = order("k1", clock)
    result = reconcile.reconcile([o.order_id], [], [], [], [], [])
    assert result.lost == 1 and "not in the table" in result.problems[0]


def test_repeated_notifications_are_allowed_and_counted(good_run):
    orders, records = good_run
    notes = [note(o.order_id) for o in orders] + [note(orders[0].order_id)]
    result = reconcile.reconcile([o.order_id for o in orders], [], table_of(records), records, notes, [])
    assert result.ok and result.notified == 3 and result.notifications_received == 4 and result.repeated_notifications == 1


def test_poison_outside_the_dlq_is_lost_and_a_notification_for_it_is_a_problem(good_run):
    orders, records = good_run
    result = reconcile.reconcile(
        [o.order_id for o in orders],
        ["p-1", "p-2"],
        table_of(records),
        records,
        [note(o.order_id) for o in orders] + [note("p-2")],
        [batch(stream_record("INSERT", new={"orderId": "p-2", "status": "NEW"}))],
    )
    assert result.in_dlq == 1 and result.lost == 1 and not result.ok
    assert any("p-1: not covered" in p for p in result.problems)
    assert any("p-2: a notification was published" in p for p in result.problems)


def test_a_notification_for_an_unknown_order_is_a_problem(good_run):
    orders, records = good_run
    notes = [note(o.order_id) for o in orders] + [note("nobody")]
    result = reconcile.reconcile([o.order_id for o in orders], [], table_of(records), records, notes, [])
    assert not result.ok and "for no order this run created" in result.problems[0]


@pytest.mark.parametrize("kind", reconcile.POISON_KINDS)
def test_poison_items_pass_the_mappings_filter_but_are_not_orders(kind):
    item = reconcile.poison_item(f"p-{kind}", kind)
    record = stream_record("INSERT", new=item)
    assert matches(NEW_ORDER_INSERTS, record)
    with pytest.raises(InvalidOrder):
        Order.from_item(item)


class FakeLambda:
    def __init__(self):
        self.requests = []

    def invoke(self, FunctionName, Payload):
        import io

        request = json.loads(Payload)
        self.requests.append(request)
        o = create_order(request, Memory()).order
        body = json.dumps({"created": True, "order": {"orderId": o.order_id}})
        return {"Payload": io.BytesIO(json.dumps({"statusCode": 201, "body": body}).encode())}


class FakeTable:
    def __init__(self):
        self.items = []

    def put_item(self, TableName, Item):
        self.items.append(Item)


def test_drive_mixes_in_the_requested_share_of_poison_and_counts_every_write():
    lam, table, seen = FakeLambda(), FakeTable(), []
    report = reconcile.drive(lam, "fn", table, TABLE, 95, poison_share=0.05, rate_per_s=10_000, on_progress=seen.append)
    assert len(report.created) == 95 and len(set(report.created)) == 95 and len(report.poison) == 5
    assert len(table.items) == 5 and all(i["status"] == {"S": "NEW"} for i in table.items)
    assert seen == list(range(1, 101))


class FakeStreams:
    """GetRecords pages as the Streams API returns them (boto3-parsed)."""

    def __init__(self, pages):
        self.pages = pages

    def describe_stream(self, StreamArn):
        return {"StreamDescription": {"Shards": [{"ShardId": "shard-1"}]}}

    def get_shard_iterator(self, StreamArn, ShardId, ShardIteratorType):
        assert ShardIteratorType == "TRIM_HORIZON"
        return {"ShardIterator": "0"}

    def get_records(self, ShardIterator, Limit):
        index = int(ShardIterator)
        page = self.pages[index] if index < len(self.pages) else []
        return {"Records": page, "NextShardIterator": str(index + 1)}


def test_read_stream_follows_pages_until_an_empty_one(clock):
    o = order("k1", clock)
    records, _ = history(o.to_item())
    wire = [{k: v for k, v in r.items() if k in ("eventID", "eventName", "dynamodb")} for r in records]
    read = reconcile.read_stream(FakeStreams([wire[:1], wire[1:]]), "arn")
    assert [r["eventName"] for r in read] == ["INSERT", "MODIFY", "MODIFY"]
    assert reconcile.transitions_by_order(read) == {o.order_id: 1}


def test_readers_return_the_notifications_and_items(dynamodb, repo, clock, subscriber, notifier):
    from orders_lib.aws import clients

    from .conftest import SETTINGS

    o = order("k1", clock)
    repo.create(o)
    notifier.publish([o.transition(OrderStatus.PROCESSED, "2026-11-26T12:00:01.000Z")] * 2)
    repo.complete(o.order_id, "2026-11-26T12:00:01.000Z", "2026-11-26T12:00:01.100Z")
    notes = reconcile.drain_notifications(clients.client("sqs", SETTINGS), subscriber.queue_url, quiet_polls=1)
    items = reconcile.scan_items(dynamodb, TABLE)
    records, _ = history(o.to_item())
    result = reconcile.reconcile([o.order_id], [], items, records, notes, [])
    assert result.ok and result.notified == 1 and result.repeated_notifications == 1
    assert items[0]["total"] == Decimal("12.75") and items[0]["notifiedAt"]

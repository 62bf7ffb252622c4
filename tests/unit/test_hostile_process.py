"""ProcessOrder fed malformed stream events: no crash, each bad record reported by
its sequence number, every good record in the same batch processed once."""

from __future__ import annotations

import itertools
from dataclasses import replace

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders_lib.aws.notifier import PublishReport
from orders_lib.aws.repository import Transition, TransitionResult
from orders_lib.domain.model import OrderStatus
from orders_lib.pipeline.create import create_order
from orders_lib.pipeline.process import process_records

from .conftest import valid_request
from .events import stream_event, stream_record


class Memory:
    """Orders in a dict, with the repository's conditional semantics, counting transitions."""

    def __init__(self):
        self.orders, self.transitions = {}, {}

    def create(self, order):
        self.orders.setdefault(order.order_id, order)
        return self.orders[order.order_id], True

    def statuses(self, order_ids):
        return {order_id: self.orders[order_id].status if order_id in self.orders else None for order_id in order_ids}

    def complete(self, order_id, processed_at, notified_at):
        order = self.orders.get(order_id)
        if order is None:
            return TransitionResult(Transition.MISSING, None)
        if order.status is not OrderStatus.NEW:
            return TransitionResult(Transition.ALREADY_DONE, order)
        self.orders[order_id] = replace(order.transition(OrderStatus.PROCESSED, processed_at), notified_at=notified_at)
        self.transitions[order_id] = self.transitions.get(order_id, 0) + 1
        return TransitionResult(Transition.APPLIED, self.orders[order_id])


class Sent:
    def __init__(self):
        self.ids = []

    def publish(self, orders):
        self.ids += [o.order_id for o in orders]
        return PublishReport(published=[o.order_id for o in orders])


_sequences = itertools.count(900000000000000000001)


def good(store, key):
    order = create_order(valid_request(idempotencyKey=key), store).order
    return order, stream_record("INSERT", new=order.to_item(), sequence=next(_sequences))


# --- concrete shapes through the handler (moto in-process) ------------------------------


def test_records_that_are_not_objects_are_reported_and_the_rest_processed(process_handler, context, repo, clock, subscriber):
    order = create_order(valid_request(idempotencyKey="k1"), repo, clock).order
    event = stream_event(None, stream_record("INSERT", new=order.to_item()), ["a", "list"], "text", 42)
    response = process_handler(event, context)
    # No sequence number to name: an identifier the mapping cannot match fails (and retries) the batch.
    assert response == {"batchItemFailures": [{"itemIdentifier": "unknown"}]}
    assert repo.get(order.order_id).status.value == "PROCESSED"
    assert len(subscriber.messages()) == 1


def test_records_with_broken_stream_data_are_reported_by_sequence_number(process_handler, context, repo, clock, subscriber):
    order = create_order(valid_request(idempotencyKey="k1"), repo, clock).order
    broken = [
        {"eventID": "e-no-data", "eventName": "INSERT"},
        {"eventID": "e-data-null", "eventName": "INSERT", "dynamodb": None},
        {"eventID": "e-data-list", "eventName": "INSERT", "dynamodb": [1, 2]},
        stream_record("INSERT", raw_new=["not", "a", "map"]),
        stream_record("INSERT", raw_new={"orderId": "not-an-attribute-value"}),
        stream_record("INSERT", raw_new={"orderId": {"S": "x"}, "expiresAt": {"N": "soon"}}),
        stream_record("INSERT", raw_new={"orderId": {"S": "x"}, "items": {"L": 5}}),
        stream_record("INSERT", raw_new={"orderId": {"S": "x"}, "status": {"NULL": True}}),
        stream_record("INSERT", new={**order.to_item(), "orderId": "other", "status": 7}),
        stream_record(None, new=order.to_item()),
    ]
    response = process_handler(stream_event(*broken, stream_record("INSERT", new=order.to_item())), context)
    expected = ["e-no-data", "e-data-null", "e-data-list", *(r["dynamodb"]["SequenceNumber"] for r in broken[3:])]
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == expected
    assert repo.get(order.order_id).status.value == "PROCESSED" and len(subscriber.messages()) == 1


def test_modify_and_remove_with_garbage_images_are_ignored(process_handler, context, repo, clock):
    event = stream_event(stream_record("MODIFY", raw_new={"x": {"Q": 1}}), stream_record("REMOVE", keys={}))
    assert process_handler(event, context) == {"batchItemFailures": []}


# --- generated batches (in memory, fast) --------------------------------------------------

json_leaf = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
json_values = st.recursive(json_leaf, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3), max_leaves=8)
attribute_values = st.one_of(
    st.dictionaries(st.sampled_from(["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "Q"]), json_values, min_size=1, max_size=2),
    json_values,
)
images = st.one_of(
    st.dictionaries(st.sampled_from(["orderId", "status", "items", "customer", "total", "expiresAt", "x"]), attribute_values, max_size=6),
    json_values,
)
event_names = st.sampled_from(["INSERT", "MODIFY", "REMOVE", "UPSERT", "insert", ""]) | st.none() | st.integers()


@st.composite
def broken_records(draw):
    if draw(st.integers(0, 9)) == 0:
        return draw(st.none() | st.lists(json_leaf, max_size=2) | st.text(max_size=5) | st.integers())
    data = {"SequenceNumber": str(next(_sequences)), "NewImage": draw(images)}
    if draw(st.booleans()):
        data["OldImage"] = draw(images)
    return {"eventID": "e", "eventName": draw(event_names), "eventSource": "aws:dynamodb", "dynamodb": data}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(broken_records(), min_size=1, max_size=6), st.integers(1, 4), st.randoms(use_true_random=False))
def test_a_batch_mixing_good_and_malformed_records_never_crashes(bad, good_count, rng):
    store, sent = Memory(), Sent()
    goods = [good(store, f"k{i}") for i in range(good_count)]
    records = bad + [record for _, record in goods]
    rng.shuffle(records)
    result = process_records(DynamoDBStreamEvent({"Records": records}).records, store, sent)
    for order, _ in goods:
        assert store.transitions[order.order_id] == 1 and store.orders[order.order_id].notified_at
    assert sorted(sent.ids) == sorted(o.order_id for o, _ in goods)
    for record in bad:
        if not isinstance(record, dict):
            assert "unknown" in result.failures
        elif record["eventName"] in ("MODIFY", "REMOVE"):
            assert record["dynamodb"]["SequenceNumber"] in result.ignored
        else:
            assert record["dynamodb"]["SequenceNumber"] in result.failures
    assert not any(record["dynamodb"]["SequenceNumber"] in result.failures for _, record in goods)

"""Nothing is lost when ProcessOrder dies at any point of a batch: the execution environment is
killed before or after each of the batch's AWS calls (its answer lost), then the mapping's retry
runs the same records. Every order ends PROCESSED and notified at least once, with the same
dedup id, and the stream shows exactly one state change per order."""

from __future__ import annotations

import itertools
import threading
from collections import Counter

import pytest
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from orders_lib.aws import clients
from orders_lib.aws.notifier import SnsNotifier
from orders_lib.aws.repository import OrderRepository
from orders_lib.domain.notification import dedup_id
from orders_lib.ops.reconcile import transitions_by_order
from orders_lib.pipeline import process
from orders_lib.pipeline.create import create_order
from orders_lib.pipeline.process import process_records

from .conftest import SETTINGS, TABLE, valid_request

ORDERS = 10  # one full batch, as the mapping delivers it
CALLS = 1 + 1 + ORDERS  # BatchGetItem, PublishBatch, one UpdateItem per order


class Crash(BaseException):
    """The execution environment dies: no ``except Exception`` in the code can catch it."""


class Dying:
    """A client that counts the batch's calls (shared across clients and threads) and dies at
    call number ``at``: before sending it, or after it took effect but before its answer."""

    def __init__(self, client, counter, at: int, when: str):
        self._client, self._counter, self._at, self._when = client, counter, at, when

    def __getattr__(self, name):
        attribute = getattr(self._client, name)
        if name.startswith("_") or name == "meta" or not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            number = self._counter()
            if self._at >= 0 and number > self._at:
                raise Crash(f"call {number} ({name}) after the environment died")
            if number == self._at and self._when == "before":
                raise Crash(f"died before call {number} ({name})")
            result = attribute(*args, **kwargs)
            if number == self._at and self._when == "after":
                raise Crash(f"died after call {number} ({name})")
            return result

        return call


def counter():
    lock, numbers = threading.Lock(), itertools.count()

    def next_number():
        with lock:
            return next(numbers)

    return next_number


def died():
    """After a crash Lambda runs the retry in a fresh execution environment: the dead one's
    threads are gone (here: its pool's in-flight calls finish, then the pool is dropped)."""
    if process._POOL is not None:
        process._POOL.shutdown(wait=True)
        process._POOL = None


def run(records, dynamodb, sns, topic_arn):
    return process_records(DynamoDBStreamEvent({"Records": records}).records, OrderRepository(dynamodb, TABLE), SnsNotifier(sns, topic_arn))


def test_a_clean_batch_makes_the_calls_counted_here(dynamodb, topic_arn, clock):
    repo = OrderRepository(dynamodb, TABLE)
    for n in range(ORDERS):
        create_order(valid_request(idempotencyKey=f"clean-{n}"), repo, clock)
    records = stream_records("INSERT")
    numbers = counter()
    result = run(records, Dying(dynamodb, numbers, -1, "before"), Dying(clients.client("sns", SETTINGS), numbers, -1, "before"), topic_arn)
    assert len(result.processed) == ORDERS and not result.failures
    assert numbers() == CALLS, "the crash points below cover every call of the batch"


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("at", range(CALLS))
def test_dying_at_any_call_loses_nothing_and_changes_each_state_once(dynamodb, topic_arn, subscriber, clock, at, when):
    repo = OrderRepository(dynamodb, TABLE)
    orders = [create_order(valid_request(idempotencyKey=f"crash-{n}"), repo, clock).order for n in range(ORDERS)]
    sns = clients.client("sns", SETTINGS)
    records = stream_records("INSERT")
    numbers = counter()

    with pytest.raises(Crash):
        run(records, Dying(dynamodb, numbers, at, when), Dying(sns, numbers, at, when), topic_arn)
    died()
    for _attempt in range(3):  # the mapping's retries: the same records again, until the batch succeeds
        if not run(records, dynamodb, sns, topic_arn).failures:
            break
    else:
        pytest.fail("the batch still failed after the retries")

    stored = {order.order_id: repo.get(order.order_id) for order in orders}
    assert all(o.status.value == "PROCESSED" and o.processed_at and o.notified_at for o in stored.values())
    notified = Counter(m["body"]["orderId"] for m in subscriber.messages())
    assert set(notified) == set(stored) and all(count >= 1 for count in notified.values())
    assert all(count <= 2 for count in notified.values()), "at most one repeat, from the attempt that died"
    history = transitions_by_order(stream_records())
    assert history == dict.fromkeys(stored, 1), "exactly one state change per order"


def test_repeats_carry_the_same_dedup_id(dynamodb, topic_arn, subscriber, clock):
    repo = OrderRepository(dynamodb, TABLE)
    order = create_order(valid_request(idempotencyKey="dedup"), repo, clock).order
    sns = clients.client("sns", SETTINGS)
    records = stream_records("INSERT")
    numbers = counter()
    with pytest.raises(Crash):  # dies after the publish (call 1), before the write
        run(records, Dying(dynamodb, numbers, 1, "after"), Dying(sns, numbers, 1, "after"), topic_arn)
    died()
    run(records, dynamodb, sns, topic_arn)
    messages = subscriber.messages()
    assert [m["body"]["dedupId"] for m in messages] == [dedup_id(order.order_id)] * 2


def test_a_record_read_again_after_processing_sends_nothing(dynamodb, topic_arn, subscriber, clock):
    """A mapping re-created at TRIM_HORIZON replays INSERTs of processed orders: one read, no notification."""
    repo = OrderRepository(dynamodb, TABLE)
    create_order(valid_request(idempotencyKey="replay"), repo, clock)
    sns = clients.client("sns", SETTINGS)
    records = stream_records("INSERT")
    run(records, dynamodb, sns, topic_arn)
    assert len(subscriber.messages()) == 1
    numbers = counter()
    replay = run(records, Dying(dynamodb, numbers, -1, "before"), Dying(sns, numbers, -1, "before"), topic_arn)
    assert replay.ignored and not replay.processed and subscriber.messages() == []
    assert numbers() == 1, "only the BatchGetItem"


def stream_records(event_name: str | None = None) -> list[dict]:
    """The table's stream, read from moto's backend (moto 5.2 in-process does not route the
    DynamoDB Streams endpoint botocore 1.44 uses), in Lambda's event shape."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from orders_lib.sandbox.dynamodb.streams import to_event_record

    shard = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables[TABLE].stream_shard
    records = [to_event_record(item.to_json()) for item in shard.items]
    return [r for r in records if event_name in (None, r["eventName"])]

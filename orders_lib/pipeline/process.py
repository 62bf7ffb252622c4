"""ProcessOrder: move each new order to PROCESSED once and notify at least once.

For a batch of stream records:
1. every INSERT of a ``NEW`` order gets the conditional ``NEW -> PROCESSED``
   update; if an earlier attempt already applied it, the stored order tells
   whether its notification went out (``notifiedAt``);
2. orders still lacking a notification are published together (PublishBatch);
3. each successful publish records ``notifiedAt``.
Steps 1 and 3 send their per-order writes concurrently (``each``), so a batch of
ten costs about one write's latency, not ten.
A record fails (and is retried by the event source mapping, then sent to the
DLQ) when it is not a valid order or one of its steps fails; the others succeed.
Powertools' BatchProcessor calls its record handler one record at a time, which
would rule out step 2's batch publish, so this loop keeps the steps together and
returns the same ``batchItemFailures`` response shape.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from ..aws.notifier import PublishReport
from ..aws.repository import Transition, TransitionResult
from ..domain.clock import Clock, to_iso, utc_now
from ..domain.model import InvalidOrder, Order, OrderStatus

LOG = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")
IGNORED_EVENTS = frozenset({"MODIFY", "REMOVE"})  # the mapping's filter drops these; ignore them if it does not


class OrderStore(Protocol):
    def mark_processed(self, order_id: str, at: str) -> TransitionResult: ...
    def mark_notified(self, order_id: str, at: str) -> None: ...


class Notifier(Protocol):
    def publish(self, orders: list[Order]) -> PublishReport: ...


@dataclass
class BatchResult:
    processed: list[str] = field(default_factory=list)  # order ids moved to PROCESSED by this call
    notified: list[str] = field(default_factory=list)
    publish_failed: list[str] = field(default_factory=list)  # order ids SNS did not accept
    ignored: list[str] = field(default_factory=list)  # sequence numbers of records that need no work
    failures: dict[str, str] = field(default_factory=dict)  # sequence number -> reason

    def response(self) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": seq} for seq in self.failures]}


def _new_order(record: DynamoDBRecord) -> Order | None:
    """The order an INSERT record announces, or None if the record needs no work."""
    if not isinstance(record.raw_event, dict):
        raise InvalidOrder([f"record is {type(record.raw_event).__name__}, not an object"])
    event_name = record.get("eventName")
    if event_name in IGNORED_EVENTS:
        return None
    if event_name != "INSERT":
        raise InvalidOrder([f"eventName {event_name!r} is not one DynamoDB Streams sends"])
    try:
        image = record.dynamodb.new_image if record.dynamodb else None
    except (TypeError, ValueError, AttributeError, KeyError) as error:
        raise InvalidOrder([f"NewImage cannot be decoded ({type(error).__name__}: {error})"]) from None
    if not image:
        raise InvalidOrder(["INSERT record without a NewImage (is the stream view NEW_IMAGE or NEW_AND_OLD_IMAGES?)"])
    order = Order.from_item(image)
    return order if order.status is OrderStatus.NEW else None


def process_records(
    records: Iterable[DynamoDBRecord], store: OrderStore, notifier: Notifier, clock: Clock = utc_now, log: Any = LOG
) -> BatchResult:
    result = BatchResult()
    work: list[tuple[str, Order]] = []  # (sequence number, order announced by an INSERT)
    for record in records:
        sequence = _sequence_number(record)
        try:
            order = _new_order(record)
        except InvalidOrder as error:
            log.error("record is not a valid order", extra={"sequence_number": sequence, "problems": error.problems})
            result.failures[sequence] = str(error)
            continue
        except Exception as error:  # noqa: BLE001 - one record's failure must not fail the batch; logged with its cause
            log.exception("record failed", extra={"sequence_number": sequence})
            result.failures[sequence] = f"{type(error).__name__}: {error}"
            continue
        if order is None:
            result.ignored.append(sequence)
        else:
            work.append((sequence, order))

    pending: dict[str, tuple[str, Order]] = {}  # order id -> (sequence number, processed order)
    transitions = each(lambda item: store.mark_processed(item[1].order_id, to_iso(clock())), work)
    for (sequence, order), transition in zip(work, transitions, strict=True):
        if isinstance(transition, Exception):
            log.error("state change failed", extra={"sequence_number": sequence}, exc_info=transition)
            result.failures[sequence] = f"{type(transition).__name__}: {transition}"
        elif transition.outcome is Transition.MISSING or transition.order is None:
            log.warning("order no longer in the table", extra={"order_id": order.order_id})
            result.ignored.append(sequence)
        else:
            if transition.outcome is Transition.APPLIED:
                result.processed.append(order.order_id)
            if transition.order.notified_at is None:
                pending[order.order_id] = (sequence, transition.order)
            else:
                result.ignored.append(sequence)

    if pending:
        report = notifier.publish([order for _, order in pending.values()])
        for order_id, reason in report.failed.items():
            log.error("notification failed", extra={"order_id": order_id, "reason": reason})
            result.publish_failed.append(order_id)
            result.failures[pending[order_id][0]] = f"publish failed: {reason}"
        recorded = each(lambda order_id: store.mark_notified(order_id, to_iso(clock())), report.published)
        for order_id, outcome in zip(report.published, recorded, strict=True):
            if isinstance(outcome, Exception):  # retried: the notification repeats with its dedup id
                log.error("recording notifiedAt failed", extra={"order_id": order_id}, exc_info=outcome)
                result.failures[pending[order_id][0]] = f"{type(outcome).__name__}: {outcome}"
            else:
                result.notified.append(order_id)
    log.info(
        "batch done",
        extra={"processed": len(result.processed), "notified": len(result.notified), "ignored": len(result.ignored), "failed": len(result.failures)},
    )
    return result


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()
PARALLEL_CALLS = 10  # a batch's per-order writes go out together: one batch, one round trip of latency


def each(call: Callable[[T], R], items: Sequence[T]) -> list[R | Exception]:
    """``call`` on every item, concurrently, keeping order; an exception is returned in
    its item's place, so one order's failure never hides another's outcome."""
    global _POOL
    if len(items) <= 1:
        return [_outcome(call, item) for item in items]
    with _POOL_LOCK:
        if _POOL is None:  # created once per execution environment, reused while warm
            _POOL = ThreadPoolExecutor(max_workers=PARALLEL_CALLS, thread_name_prefix="orders")
    return list(_POOL.map(lambda item: _outcome(call, item), items))


def _outcome(call: Callable[[T], R], item: T) -> R | Exception:
    try:
        return call(item)
    except Exception as error:  # noqa: BLE001 - returned to the caller, which records it per order
        return error


def _sequence_number(record: DynamoDBRecord) -> str:
    try:
        sequence = record.dynamodb.sequence_number if record.dynamodb else None
    except (AttributeError, TypeError):
        sequence = None
    try:
        return sequence or record.event_id or "unknown"
    except (AttributeError, TypeError):  # not a record at all: an identifier the mapping cannot match fails the batch
        return "unknown"

"""ProcessOrder: notify each new order at least once, then move it to PROCESSED exactly once,
in one write per order.

For a batch of stream records:
1. the orders announced by INSERTs of ``NEW`` orders are looked up together (one consistent
   ``BatchGetItem``): an order already ``PROCESSED`` (a record read again, e.g. by a mapping
   re-created at ``TRIM_HORIZON``) or gone needs no work and sends nothing;
2. the rest are published together (``PublishBatch``, stable dedup id per order);
3. each order whose publish SNS accepted gets one conditional update, ``NEW -> PROCESSED``
   with ``processedAt`` (when this batch took it) and ``notifiedAt`` (when SNS accepted it).

So ``PROCESSED`` means "the notification was accepted". A crash or failure anywhere leaves the
order ``NEW``: the retry publishes again with the same dedup id (subscribers drop the repeat)
and then writes. Per order that is one write and 1.2 calls in a full batch (0.1 read, 0.1
publish, 1 update); the read is what keeps replays from notifying customers twice, and if it
fails the batch goes on without it (at-least-once covers the rest). Step 3's writes go out
concurrently (``each``), so a batch of ten costs about one write's latency, not ten.
A record fails (and is retried by the event source mapping, then sent to the DLQ) when it is
not a valid order or one of its steps fails; the others succeed. Powertools' BatchProcessor
calls its record handler one record at a time, which would rule out the batched read and
publish, so this loop keeps the steps together and returns the same ``batchItemFailures`` shape.

Logs, for ``orders trace``: a batch's first and last lines list the ``orderIds`` it covers (the
first one even when the invocation dies afterwards), and every line about one order carries it
as a top-level ``orderId`` key: a refused record, a failed publish or write, and each accepted
notification with its SNS ``message_id``.
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
    def statuses(self, order_ids: list[str]) -> dict[str, OrderStatus | None]: ...
    def complete(self, order_id: str, processed_at: str, notified_at: str) -> TransitionResult: ...


class Notifier(Protocol):
    def publish(self, orders: list[Order]) -> PublishReport: ...


@dataclass
class BatchResult:
    processed: list[str] = field(default_factory=list)  # order ids moved to PROCESSED by this call
    notified: list[str] = field(default_factory=list)  # order ids whose notification SNS accepted
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
    records = list(records)
    keys = [_order_key(record) for record in records]
    sequences = [_sequence_number(record) for record in records]
    log.info(
        "batch received",
        extra={"batch_size": len(records), "orderIds": keys, "sequence_numbers": sequences},  # aligned: None for a keyless record
    )
    work: list[tuple[str, Order]] = []  # (sequence number, order announced by an INSERT)
    for record, key, sequence in zip(records, keys, sequences, strict=True):
        about = {"orderId": key, "sequence_number": sequence} if key else {"sequence_number": sequence}
        try:
            order = _new_order(record)
        except InvalidOrder as error:
            log.error("record is not a valid order", extra={**about, "problems": error.problems})
            result.failures[sequence] = str(error)
            continue
        except Exception as error:  # one record's failure must not fail the batch; logged with its cause
            log.exception("record failed", extra=about)
            result.failures[sequence] = f"{type(error).__name__}: {error}"
            continue
        if order is None:
            result.ignored.append(sequence)
        else:
            work.append((sequence, order))

    work = _still_new(work, store, result, log)
    if work:
        taken_at = to_iso(clock())  # processedAt: when this batch took the orders
        by_id = {order.order_id: (sequence, order.transition(OrderStatus.PROCESSED, taken_at)) for sequence, order in work}
        report = notifier.publish([order for _, order in by_id.values()])
        for order_id, reason in report.failed.items():
            log.error("notification failed", extra={"orderId": order_id, "sequence_number": by_id[order_id][0], "reason": reason})
            result.publish_failed.append(order_id)
            result.failures[by_id[order_id][0]] = f"publish failed: {reason}"
        result.notified.extend(report.published)
        for order_id in report.published:
            extra = {"orderId": order_id, "sequence_number": by_id[order_id][0], "message_id": report.message_ids.get(order_id)}
            log.info("notification published", extra=extra)
        notified_at = to_iso(clock())
        completed = each(lambda order_id: store.complete(order_id, taken_at, notified_at), report.published)
        for order_id, outcome in zip(report.published, completed, strict=True):
            sequence = by_id[order_id][0]
            if isinstance(outcome, Exception):  # retried: the order is still NEW; the notification repeats with its dedup id
                log.error("state change failed", extra={"orderId": order_id, "sequence_number": sequence}, exc_info=outcome)
                result.failures[sequence] = f"{type(outcome).__name__}: {outcome}"
            elif outcome.outcome is Transition.APPLIED:
                result.processed.append(order_id)
            else:  # processed meanwhile by another attempt (a redrive), or deleted: nothing more to do
                result.ignored.append(sequence)
    log.info(
        "batch done",
        extra={
            "processed": len(result.processed),
            "notified": len(result.notified),
            "ignored": len(result.ignored),
            "failed": len(result.failures),
            "orderIds": keys,
            "failed_sequence_numbers": list(result.failures),
        },
    )
    return result


def _still_new(work: list[tuple[str, Order]], store: OrderStore, result: BatchResult, log: Any) -> list[tuple[str, Order]]:
    """The announced orders still ``NEW`` in the table. A record read again after its order was
    processed, or whose order is gone, needs nothing (and sends nothing). If the read fails, every
    order counts as new: the conditional write still changes each state once."""
    if not work:
        return work
    try:
        stored = store.statuses([order.order_id for _, order in work])
    except Exception as error:  # noqa: BLE001 - an optimisation failed, not the batch; the cause is logged
        log.warning("status read failed; processing every record", extra={"reason": f"{type(error).__name__}: {error}"})
        return work
    still_new = []
    for sequence, order in work:
        if stored.get(order.order_id) is OrderStatus.NEW:
            still_new.append((sequence, order))
        else:
            result.ignored.append(sequence)
    return still_new


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


def _order_key(record: DynamoDBRecord) -> str | None:
    """The ``orderId`` in a record's key (from the raw event: it needs no decoding that could
    fail), or None when the record has none; never raises, whatever the record holds."""
    raw = record.raw_event if isinstance(getattr(record, "raw_event", None), dict) else {}
    data = raw.get("dynamodb")
    keys = data.get("Keys") if isinstance(data, dict) else None
    value = keys.get("orderId") if isinstance(keys, dict) else None
    key = next(iter(value.values()), None) if isinstance(value, dict) and value else None
    return key if isinstance(key, str) else None


def _sequence_number(record: DynamoDBRecord) -> str:
    try:
        sequence = record.dynamodb.sequence_number if record.dynamodb else None
    except (AttributeError, TypeError):
        sequence = None
    try:
        return sequence or record.event_id or "unknown"
    except (AttributeError, TypeError):  # not a record at all: an identifier the mapping cannot match fails the batch
        return "unknown"

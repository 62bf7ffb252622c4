"""Reconciliation: after a run, account for every order that went in.

Evidence comes from four independent places, never from the pipeline's own
report of itself:

* the **table**: final status, ``processedAt``, ``notifiedAt``;
* the table's **stream**: every state change is a MODIFY record, so a
  ``NEW -> PROCESSED`` image pair counted per order shows whether a transition
  happened exactly once (a second conditional update that slipped through, or a
  rewrite of ``processedAt``, would be a second such record);
* a **notification subscriber** (an SQS queue subscribed to the topic before
  the run): which dedup ids were delivered, and how many times;
* the **DLQ**: the on-failure records and the stream records they cover.

``reconcile`` is pure (it takes what the readers below return), so its rules
are unit-tested without a sandbox.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..aws.repository import from_attribute_map, to_attribute_map
from ..domain.notification import dedup_id
from .dlq import FailedBatch

PROCESSED, NEW = "PROCESSED", "NEW"
COLUMNS = ("created", "processed", "notified", "in_dlq", "lost", "duplicated_transitions")


def _key(record: dict[str, Any]) -> str | None:
    value = record.get("dynamodb", {}).get("Keys", {}).get("orderId", {})
    return value.get("S") if isinstance(value, dict) else None


def _image(record: dict[str, Any], which: str) -> dict[str, Any]:
    image = record.get("dynamodb", {}).get(which) or {}
    try:
        return from_attribute_map(image)
    except (TypeError, ValueError, AttributeError):
        return {}


def transitions_by_order(records: Iterable[dict[str, Any]]) -> Counter[str]:
    """State changes per order seen in the stream.

    A change is a MODIFY whose images differ in status, or whose ``processedAt``
    was rewritten: ``NEW -> PROCESSED`` once is the only correct history. A
    MODIFY that only adds ``notifiedAt`` is not a state change.
    """
    counts: Counter[str] = Counter()
    for record in records:
        if record.get("eventName") != "MODIFY":
            continue
        old, new = _image(record, "OldImage"), _image(record, "NewImage")
        status_changed = old.get("status") != new.get("status")
        stamp_rewritten = bool(old.get("processedAt")) and old.get("processedAt") != new.get("processedAt")
        if status_changed or stamp_rewritten:
            key = _key(record)
            if key:
                counts[key] += 1
    return counts


@dataclass
class Reconciliation:
    created: int
    processed: int
    notified: int
    in_dlq: int
    lost: int
    duplicated_transitions: int
    poison: int = 0
    notifications_received: int = 0
    repeated_notifications: int = 0  # allowed: at-least-once, subscribers drop repeats by dedup id
    valid_orders_in_dlq: int = 0  # valid orders inside a failed batch's range (retried, not lost)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.lost == 0 and self.duplicated_transitions == 0

    def row(self) -> dict[str, int]:
        return {column: getattr(self, column) for column in COLUMNS}

    def table(self) -> str:
        """The reconciliation table, with the context a reader needs under it."""
        from .orders import format_table

        lines = [format_table([self.row()], COLUMNS)]
        lines.append(
            f"poison records written: {self.poison}; notifications received: {self.notifications_received} "
            f"({self.repeated_notifications} repeats, dropped by dedup id); valid orders inside DLQ ranges: "
            f"{self.valid_orders_in_dlq}"
        )
        lines += [f"PROBLEM: {p}" for p in self.problems[:50]]
        if len(self.problems) > 50:
            lines.append(f"... and {len(self.problems) - 50} more problems")
        return "\n".join(lines)


def reconcile(
    created_ids: Iterable[str],
    poison_ids: Iterable[str],
    items: Iterable[dict[str, Any]],
    stream_records: Iterable[dict[str, Any]],
    notifications: Iterable[dict[str, Any]],
    dlq_batches: Iterable[FailedBatch],
) -> Reconciliation:
    """Account for each created order and each poison record; see the module docstring."""
    created, poison = list(dict.fromkeys(created_ids)), set(poison_ids)
    created_set = set(created)
    table = {str(item.get("orderId")): item for item in items}
    transitions = transitions_by_order(stream_records)
    delivered = Counter(str(note.get("dedupId")) for note in notifications)
    in_dlq: dict[str, FailedBatch] = {}
    for batch in dlq_batches:
        for record in batch.records:
            key = _key(record)
            if key:
                in_dlq.setdefault(key, batch)

    problems: list[str] = []
    processed = notified = lost = duplicated = 0
    for order_id in created:
        item = table.get(order_id)
        status = item.get("status") if item else None
        changes = transitions.get(order_id, 0)
        seen = delivered.get(dedup_id(order_id), 0)
        if status == PROCESSED:
            processed += 1
        if seen:
            notified += 1
        if changes > 1:
            duplicated += changes - 1
            problems.append(f"order {order_id}: {changes} state changes in the stream (expected exactly one)")
        if item is None:
            lost += 1
            problems.append(f"order {order_id}: created but not in the table")
        elif status != PROCESSED:
            lost += 1
            where = "its record is in the DLQ" if order_id in in_dlq else "stuck: not in the DLQ either"
            problems.append(f"order {order_id}: status {status} ({where})")
        elif not seen:
            lost += 1
            where = "its record is in the DLQ: redrive it" if order_id in in_dlq else "and its record is not in the DLQ"
            problems.append(f"order {order_id}: PROCESSED but no notification with its dedup id ({where})")
        elif changes == 0:
            problems.append(f"order {order_id}: PROCESSED but no NEW -> PROCESSED change in the stream")
        elif not item.get("notifiedAt"):
            problems.append(f"order {order_id}: notified but notifiedAt never recorded")

    in_dlq_poison = 0
    for key in sorted(poison):
        if key in in_dlq:
            in_dlq_poison += 1
            if in_dlq[key].condition not in ("RetryAttemptsExhausted", "RecordAgeExceeded"):
                problems.append(f"poison {key}: on-failure record with unexpected condition {in_dlq[key].condition!r}")
        else:
            lost += 1
            problems.append(f"poison {key}: not covered by any on-failure record in the DLQ")
        if transitions.get(key):
            problems.append(f"poison {key}: changed state {transitions[key]} time(s); a non-order must never move")
        if delivered.get(dedup_id(key)):
            problems.append(f"poison {key}: a notification was published for it")

    expected_ids = {dedup_id(order_id) for order_id in created}
    unknown = {key for key in delivered if key not in expected_ids}
    problems += [f"notification {key} is for no order this run created" for key in sorted(unknown)]
    return Reconciliation(
        created=len(created),
        processed=processed,
        notified=notified,
        in_dlq=in_dlq_poison,
        lost=lost,
        duplicated_transitions=duplicated,
        poison=len(poison),
        notifications_received=sum(delivered.values()),
        repeated_notifications=sum(n - 1 for n in delivered.values() if n > 1),
        valid_orders_in_dlq=sum(1 for key in in_dlq if key in created_set),
        problems=problems,
    )


# --- readers: what ``reconcile`` takes, from a live target ------------------------------


def scan_items(dynamodb: Any, table_name: str) -> list[dict[str, Any]]:
    """Every item in the table (valid orders or not), following pages."""
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table_name, ConsistentRead=True):
        items += [from_attribute_map(item) for item in page.get("Items", [])]
    return items


def read_stream(streams: Any, stream_arn: str) -> list[dict[str, Any]]:
    """Every record still in the table's stream, oldest first, in Lambda's event shape."""
    from orders_lib.sandbox.dynamodb.streams import to_event_record  # standard library only: no moto import

    records: list[dict[str, Any]] = []
    shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"].get("Shards", [])
    for shard in shards:
        iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")[
            "ShardIterator"
        ]
        while iterator:
            response = streams.get_records(ShardIterator=iterator, Limit=1000)
            page = response.get("Records", [])
            records += [to_event_record(r) for r in page]
            if not page:
                break
            iterator = response.get("NextShardIterator")
    return records


def drain_notifications(sqs: Any, queue_url: str, *, quiet_polls: int = 2) -> list[dict[str, Any]]:
    """Every notification in the subscriber queue (deleted as read) until it stays empty."""
    from .notifications import receive

    notes: list[dict[str, Any]] = []
    empty = 0
    while empty < quiet_polls:
        batch = receive(sqs, queue_url, wait_s=0)
        notes += batch
        empty = 0 if batch else empty + 1
    return notes


def read_dlq(sqs: Any, streams: Any, queue_url: str, limit: int = 1000) -> list[FailedBatch]:
    """Decoded on-failure records with the stream records each one covers."""
    from .dlq import load_records, read_batches

    batches = read_batches(sqs, queue_url, limit=limit)
    for batch in batches:
        batch.records = load_records(streams, batch)
    return batches


# --- driving a run ------------------------------------------------------------------------

POISON_KINDS = ("bare", "items-not-a-list", "quantity-not-a-number", "total-mismatch", "customer-not-a-map")


def poison_item(key: str, kind: str) -> dict[str, Any]:
    """An item that passes the mapping's filter (an INSERT with status NEW) but is no order."""
    order = {
        "orderId": key,
        "status": NEW,
        "currency": "EUR",
        "createdAt": "2026-01-01T00:00:00.000Z",
        "expiresAt": 1,
        "idempotencyKey": key,
        "requestHash": "0" * 64,
        "customer": {"customerId": "C-1", "name": "Poison", "email": "p@example.com"},
        "items": [{"sku": "X", "name": "X", "quantity": 1, "unitPrice": Decimal("1.00")}],
    }
    if kind == "bare":
        return {"orderId": key, "status": NEW}
    if kind == "items-not-a-list":
        return {**order, "items": "three pens"}
    if kind == "quantity-not-a-number":
        return {**order, "items": [{"sku": "X", "name": "X", "quantity": "minus one", "unitPrice": Decimal("1.00")}]}
    if kind == "total-mismatch":
        return {**order, "total": Decimal("999.99")}
    return {**order, "customer": "Ada"}


@dataclass
class DriveReport:
    created: list[str] = field(default_factory=list)  # order ids answered 201
    poison: list[str] = field(default_factory=list)
    repeated: int = 0
    rejected: int = 0
    seconds: float = 0.0

    @property
    def rate_per_s(self) -> float:
        return (len(self.created) + len(self.poison)) / self.seconds if self.seconds else 0.0


def drive(
    lambda_client: Any,
    function_name: str,
    dynamodb: Any,
    table_name: str,
    orders: int,
    *,
    poison_share: float = 0.05,
    rate_per_s: float = 25.0,
    workers: int = 4,
    seed: int = 7,
    on_progress: Callable[[int], None] | None = None,
) -> DriveReport:
    """Create ``orders`` orders through CreateOrder at a steady rate, with poison items
    written straight into the table so they make up ``poison_share`` of all records.

    ``on_progress(n)`` is called from the scheduling loop after the n-th write is
    scheduled (the reliability run uses it to arm chaos mid-run).
    """
    from .orders import invoke_create, random_request

    rng = random.Random(seed)
    poison_count = round(orders * poison_share / (1 - poison_share)) if poison_share else 0
    slots = ["order"] * orders + ["poison"] * poison_count
    rng.shuffle(slots)
    requests = [random_request(rng) for _ in range(orders)]
    report = DriveReport()
    lock = threading.Lock()

    def create(request: dict[str, Any]) -> None:
        result = invoke_create(lambda_client, function_name, request)
        with lock:
            if result.status_code == 201:
                report.created.append(result.order["orderId"])  # type: ignore[index]
            elif result.ok:
                report.repeated += 1
            else:
                report.rejected += 1

    def put_poison(index: int) -> None:
        key = f"poison-{seed}-{index:04d}"
        item = poison_item(key, POISON_KINDS[index % len(POISON_KINDS)])
        dynamodb.put_item(TableName=table_name, Item=to_attribute_map(item))
        with lock:
            report.poison.append(key)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="drive") as pool:
        futures = []
        order_index = poison_index = 0
        for number, slot in enumerate(slots, start=1):
            time.sleep(max(0.0, started + (number - 1) / rate_per_s - time.monotonic()))
            if slot == "order":
                futures.append(pool.submit(create, requests[order_index]))
                order_index += 1
            else:
                futures.append(pool.submit(put_poison, poison_index))
                poison_index += 1
            if on_progress:
                on_progress(number)
        for future in futures:
            future.result()
    report.seconds = time.monotonic() - started
    return report

"""The order trace's timeline and verdict, from what its sources answered (no API call here,
so every rule is unit-testable against handmade evidence)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from ..domain.clock import from_iso
from .dlq import FailedBatch, explain
from .trace_logs import Invocation, json_line
from .trace_sources import StreamRead

CREATE_ANSWERS = {201: "created", 200: "a repeat: the stored order answered", 409: "idempotency key reused for another request"}


@dataclass(frozen=True)
class Step:
    """One row of the timeline: when, which source says so, what happened, and its details."""

    at: datetime
    source: str
    what: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Evidence:
    """Everything the sources answered about one order."""

    order_id: str
    now: datetime
    item: dict[str, Any] | None = None
    creates: list[Invocation] = field(default_factory=list)
    processes: list[Invocation] = field(default_factory=list)
    stream: StreamRead | None = None
    dlq: list[FailedBatch] = field(default_factory=list)
    alarms: list[dict[str, Any]] = field(default_factory=list)
    firing: list[str] = field(default_factory=list)
    iterator_age_ms: float | None = None

    @property
    def found(self) -> bool:
        return bool(self.item or self.creates or self.processes or (self.stream and self.stream.records) or self.dlq)

    def state(self) -> dict[str, Any]:
        """The item, or (gone) the last image the stream kept of it."""
        if self.item is not None:
            return self.item
        images = [r.new_image for r in (self.stream.records if self.stream else []) if r.new_image]
        return images[-1] if images else {}


def human(ms: float) -> str:
    """``412 ms``, ``3.2 s``, ``3 min``, ``5 h``, ``2 d``."""
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 120_000:
        return f"{ms / 1000:.1f} s"
    if ms < 7_200_000:
        return f"{ms / 60_000:.0f} min"
    return f"{ms / 3_600_000:.0f} h" if ms < 172_800_000 else f"{ms / 86_400_000:.0f} d"


def _ms(event_ms: int) -> datetime:
    return datetime.fromtimestamp(event_ms / 1000, UTC)


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    try:
        return from_iso(str(value)) if value else None
    except ValueError:
        return None


def _report(invocation: Invocation) -> dict[str, Any]:
    report = invocation.report
    if report is None:
        return {"request_id": invocation.request_id, "report": "no REPORT line (yet)"}
    details: dict[str, Any] = {
        "request_id": invocation.request_id,
        "duration_ms": report.duration_ms,
        "billed_ms": report.billed_ms,
        "memory_mb": f"{report.max_memory_mb}/{report.memory_mb}",
    }
    if report.init_ms is not None:
        details["init_ms"] = report.init_ms
    return details


def _create_steps(evidence: Evidence) -> list[Step]:
    steps = []
    for invocation in evidence.creates:
        answered = invocation.line("create-order answered") or {}
        code = answered.get("status_code")
        what = f"CreateOrder answered {code} ({CREATE_ANSWERS.get(code, 'refused')})" if code else "CreateOrder invoked (no answer logged)"
        steps.append(Step(_ms(invocation.started_ms), "CreateOrder", what, {**_report(invocation), "lines": len(invocation.events)}))
    return steps


def _sequence_in(batch_line: dict[str, Any], order_id: str) -> str | None:
    ids, sequences = batch_line.get("orderIds") or [], batch_line.get("sequence_numbers") or []
    return sequences[ids.index(order_id)] if order_id in ids and len(ids) == len(sequences) else None


def order_sequences(evidence: Evidence) -> set[str]:
    """The order's stream sequence numbers named by ProcessOrder's lines."""
    found = set()
    for invocation in evidence.processes:
        for line in invocation.lines:
            if line.get("orderId") == evidence.order_id and line.get("sequence_number"):
                found.add(str(line["sequence_number"]))
            elif line.get("message") == "batch received" and (sequence := _sequence_in(line, evidence.order_id)):
                found.add(str(sequence))
    return found


def _process_steps(evidence: Evidence) -> tuple[list[Step], list[str]]:
    """ProcessOrder's invocations holding the order (attempts, bisection, failures), the SNS
    publish; also the reasons it failed, newest last."""
    steps: list[Step] = []
    reasons: list[str] = []
    attempts = 0
    last_size: int | None = None
    last_crashed = False
    dlq_at = min((t for t in (_time(b.failed_at) for b in evidence.dlq) if t), default=None)
    for invocation in evidence.processes:
        batch = invocation.line("batch received") or {}
        done = invocation.line("batch done")
        sequence = _sequence_in(batch, evidence.order_id)
        size = batch.get("batch_size")
        started = _ms(invocation.started_ms)
        redrive = bool(batch.get("redrive")) or (dlq_at is not None and started > dlq_at)
        attempts = 1 if redrive else attempts + 1
        details = {**_report(invocation), "batch_size": size, "sequence": sequence}
        mine = [e for e in invocation.lines if e.get("orderId") == evidence.order_id and e.get("level") == "ERROR"]
        if done is None:
            errors = invocation.errors() or ["the invocation ended without its 'batch done' line"]
            outcome = f"failed: {errors[-1]}"
            reasons.append(errors[-1])
        elif sequence is not None and sequence in (done.get("failed_sequence_numbers") or []):
            why = "; ".join(_reason(line) for line in mine) or "named in batchItemFailures"
            outcome = f"batchItemFailures names it: {why}"
            reasons.append(why)
            details["batchItemFailures"] = done.get("failed_sequence_numbers")
        else:
            outcome = "done"
        bisected = last_crashed and last_size is not None and size is not None and size < last_size
        label = "redrive" if redrive else f"attempt {attempts}" + (" (bisected)" if bisected else "")
        steps.append(Step(started, "ProcessOrder", f"batch of {size}, {label}: {outcome}", details))
        last_size, last_crashed = size, done is None
        for event in invocation.events:
            line = json_line(event["message"]) or {}
            if line.get("message") == "notification published" and line.get("orderId") == evidence.order_id:
                at = _time(_powertools_time(line)) or _ms(event["timestamp"])
                steps.append(Step(at, "SNS", "notification published", {"message_id": line.get("message_id")}))
    return steps, reasons


def _reason(line: dict[str, Any], shown: int = 3) -> str:
    """An ERROR line's message and its first problems (a poison record may have a dozen)."""
    detail = line.get("problems") or line.get("reason") or ""
    if isinstance(detail, list):
        detail = "; ".join(str(d) for d in detail[:shown]) + (f" (+{len(detail) - shown} more)" if len(detail) > shown else "")
    return f"{line.get('message')}: {detail}".rstrip(": ")


def _powertools_time(line: dict[str, Any]) -> str | None:
    """Powertools' ``2026-11-30 07:00:00,123+0000`` as ISO-8601 (finer than the event's time on the sandbox)."""
    text = line.get("timestamp")
    if not isinstance(text, str) or len(text) < 23:
        return None
    return text[:10] + "T" + text[11:19] + "." + text[20:23] + "+00:00"


def _table_steps(evidence: Evidence) -> list[Step]:
    state, steps = evidence.state(), []
    records = evidence.stream.records if evidence.stream else []
    insert = next((r for r in records if r.event_name == "INSERT"), None)
    modify = next((r for r in records if r.event_name == "MODIFY" and r.new_image.get("notifiedAt")), None)
    created, processed, notified = (_time(state.get(k)) for k in ("createdAt", "processedAt", "notifiedAt"))
    expires = state.get("expiresAt")
    ttl = {"ttl": datetime.fromtimestamp(int(expires), UTC).isoformat(timespec="seconds")} if isinstance(expires, (int, Decimal)) else {}
    if created:
        steps.append(
            Step(created, "table", "written: status NEW (createdAt)", {**ttl, "stream_insert": insert.sequence if insert else None})
        )
    elif insert and insert.approximate_at:
        steps.append(
            Step(insert.approximate_at, "stream", "INSERT (no createdAt: not written by CreateOrder)", {"sequence": insert.sequence})
        )
    if processed:
        steps.append(Step(processed, "table", "taken by a ProcessOrder batch (processedAt)"))
    if notified:
        details = {"status": state.get("status"), "stream_modify": modify.sequence if modify else None}
        steps.append(Step(notified, "table", "PROCESSED: SNS accepted the notification (notifiedAt)", details))
    for record in records:
        if record.event_name == "REMOVE" and record.approximate_at:
            what = "REMOVE: expired (TTL)" if record.by_ttl else "REMOVE: deleted"
            steps.append(Step(record.approximate_at, "stream", what, {"sequence": record.sequence}))
    return steps


def _other_steps(evidence: Evidence) -> list[Step]:
    steps = []
    for batch in evidence.dlq:
        at = _time(batch.failed_at) or evidence.now
        why = "; ".join(sorted({explain(r)["why"] for r in batch.records})) or (batch.function_error or "")
        details = {"condition": batch.condition, "invocations": batch.invoke_count, "batch_size": batch.batch_size, "why": why}
        steps.append(Step(at, "DLQ", f"on-failure record: {batch.condition} after {batch.invoke_count} invocations", details))
    for change in evidence.alarms:
        at = _time(change.get("Timestamp")) or evidence.now
        steps.append(Step(at, "alarm", f"{change.get('AlarmName')}: {change.get('HistorySummary')}"))
    return steps


def timeline(evidence: Evidence) -> tuple[list[Step], str]:
    """The steps, oldest first, and the one-line verdict."""
    process_steps, reasons = _process_steps(evidence)
    steps = [*_create_steps(evidence), *_table_steps(evidence), *process_steps, *_other_steps(evidence)]
    steps.sort(key=lambda step: step.at)
    return steps, verdict(evidence, reasons, steps)


SLOW_MS = 1000.0  # a notification later than this names the step that took longest


def slowest(steps: list[Step], created: datetime, notified: datetime) -> tuple[str, float] | None:
    """The longest part of created -> notified: the wait for ProcessOrder to take the record
    (stream and poller), one ProcessOrder invocation (its REPORT duration, a cold start's init
    included), or the wait before a retry or a redrive."""
    runs = [s for s in steps if s.source == "ProcessOrder" and created <= s.at <= notified]
    parts: list[tuple[str, float]] = []
    free_from = created
    for number, run in enumerate(runs):
        name = run.what.split(":")[0]
        waited = (run.at - free_from).total_seconds() * 1000
        if number == 0:
            parts.append(("the wait for ProcessOrder to take it", waited))
        else:
            parts.append(("the DLQ until the redrive" if "redrive" in name else f"the wait before {name}", waited))
        duration = run.details.get("duration_ms")
        if isinstance(duration, (int, float)):
            ran = float(duration) + float(run.details.get("init_ms") or 0)
            parts.append((f"ProcessOrder {name}", ran))
            free_from = run.at + timedelta(milliseconds=ran)
        else:
            free_from = run.at
    return max(parts, key=lambda part: part[1]) if parts else None


def verdict(evidence: Evidence, reasons: list[str], steps: list[Step] | None = None) -> str:
    """``notified in 412 ms`` (past a second: ``notified in 2.1 s, slowest: ProcessOrder batch
    of 1, attempt 1 (1.9 s)``), ``in the DLQ after 4 attempts: <reason>``, ``NEW for 3 min:
    ...``, ``unknown order id``."""
    if not evidence.found:
        return "unknown order id"
    state = evidence.state()
    created, notified = _time(state.get("createdAt")), _time(state.get("notifiedAt"))
    gone = evidence.item is None and any(r.event_name == "REMOVE" for r in (evidence.stream.records if evidence.stream else []))
    if notified:
        took = f"notified in {human((notified - created).total_seconds() * 1000)}" if created else "notified"
        if created and (notified - created).total_seconds() * 1000 >= SLOW_MS and (part := slowest(steps or [], created, notified)):
            took += f", slowest: {part[0]} ({human(part[1])})"
        return took + ("; removed from the table since" if gone else "")
    if evidence.dlq:
        batch = evidence.dlq[-1]
        why = reasons[-1] if reasons else "; ".join(sorted({explain(r)["why"] for r in batch.records})) or batch.condition
        return f"in the DLQ after {batch.invoke_count} attempts: {why}"
    if gone:
        return "removed from the table before it was notified"
    if state.get("status") == "NEW" or (evidence.item is None and evidence.creates):
        age = f"NEW for {human((evidence.now - created).total_seconds() * 1000)}" if created else "NEW"
        if reasons:
            return f"{age}: ProcessOrder failed on it {len(reasons)} time(s), retrying: {reasons[-1]}"
        lag = f"iterator age {human(evidence.iterator_age_ms)}" if evidence.iterator_age_ms is not None else "iterator age unknown"
        alarm = f"alarm {', '.join(evidence.firing)} in ALARM" if evidence.firing else "no alarm in ALARM"
        return f"{age}: ProcessOrder has not taken it ({lag}, {alarm})"
    return f"status {state.get('status', '?')}"

"""``orders trace ORDER_ID``: one order's journey, oldest first, from what AWS keeps.

The same API calls on the sandbox and on AWS (``trace_logs``, ``trace_sources``):

* CloudWatch Logs ``FilterLogEvents``: CreateOrder's and ProcessOrder's lines naming the order
  (``{ $.orderId = "ID" || $.orderIds[*] = "ID" }``), then each invocation's own lines by its
  request id (REPORT: duration, billed duration, memory); log groups keep a month;
* DynamoDB ``GetItem`` (status, createdAt, processedAt, notifiedAt, TTL) and DynamoDB Streams
  (the key's INSERT, MODIFY, REMOVE; 24 hours kept);
* SQS ``ReceiveMessage`` on the DLQ, peeked (the on-failure record covering the order's record;
  14 days kept);
* CloudWatch ``DescribeAlarmHistory`` in the order's time window, and, for an order still NEW,
  ``DescribeAlarms`` and ProcessOrder's ``IteratorAge``.

A ``Trace`` holds the ``steps`` (rows: at, source, what, details), a one-line ``verdict`` and
``notes`` on what a source could not answer; ``to_table()`` for the CLI, ``to_dict()`` /
``to_frame()`` for the notebooks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..domain.clock import from_iso
from . import trace_logs, trace_sources
from .stack import StackOutputs
from .trace_timeline import Evidence, Step, human, order_sequences, timeline

LOOKBACK = timedelta(days=7)  # how far back to search when the table no longer says when the order began
MARGIN = timedelta(minutes=1)


@dataclass(frozen=True)
class TraceTarget:
    """Where the order's traces are: names from the stack's outputs, one client per service."""

    create_log_group: str
    process_log_group: str
    table_name: str
    stream_arn: str | None
    dlq_url: str | None
    process_function: str
    alarm_names: tuple[str, ...] = ()

    @classmethod
    def from_outputs(cls, outputs: StackOutputs) -> TraceTarget:
        values = outputs.values
        return cls(
            create_log_group=outputs.log_group("create"),
            process_log_group=outputs.log_group("process"),
            table_name=outputs.table_name,
            stream_arn=values.get("TableStreamArn"),
            dlq_url=values.get("DlqUrl"),
            process_function=outputs.process_function,
            alarm_names=tuple(name for name in values.get("AlarmNames", "").split(",") if name),
        )


@dataclass
class Trace:
    order_id: str
    steps: list[Step]
    verdict: str
    found: bool
    notes: list[str] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per step with the gap since the previous one (ms)."""
        rows: list[dict[str, Any]] = []
        previous: datetime | None = None
        for step in self.steps:
            gap: float | None = None if previous is None else round((step.at - previous).total_seconds() * 1000, 3)
            rows.append({"at": step.at, "gap_ms": gap, "source": step.source, "what": step.what, "details": step.details})
            previous = step.at
        return rows

    def to_dict(self) -> dict[str, Any]:
        rows = [{**row, "at": row["at"].isoformat(timespec="milliseconds")} for row in self.rows()]
        return {"orderId": self.order_id, "found": self.found, "verdict": self.verdict, "steps": rows, "notes": self.notes}

    def to_frame(self) -> Any:
        """The steps as a pandas DataFrame (for the notebooks' tables and charts)."""
        import pandas as pd

        return pd.DataFrame(self.rows(), columns=["at", "gap_ms", "source", "what", "details"])

    def to_table(self) -> str:
        """The timeline as text: time to the millisecond, gap, source, what, details."""
        lines = [f"order {self.order_id}"]
        for row in self.rows():
            gap = "" if row["gap_ms"] is None else "+" + human(row["gap_ms"])
            details = "  ".join(f"{k}={v}" for k, v in row["details"].items() if v is not None)
            lines.append(f"{row['at']:%Y-%m-%d %H:%M:%S.%f}"[:-3] + f"  {gap:>9}  {row['source']:<12} {row['what']}")
            if details:
                lines.append(" " * 37 + details)
        lines += [f"note: {note}" for note in self.notes]
        lines.append(f"verdict: {self.verdict}")
        return "\n".join(lines)


def _attempt(notes: list[str], what: str, call: Callable[[], Any], default: Any) -> Any:
    """One source's answer; a source that fails is named in the notes, the trace goes on."""
    try:
        return call()
    except Exception as error:  # noqa: BLE001 - a trace shows what the other sources know; the failure is noted
        notes.append(f"{what}: {type(error).__name__}: {error}")
        return default


def trace(
    order_id: str, clients: Callable[[str], Any], target: TraceTarget, now: datetime | None = None, lookback: timedelta = LOOKBACK
) -> Trace:
    """The order's timeline from every source (``clients(service)`` gives a boto3 client)."""
    now = now or datetime.now(UTC)
    notes: list[str] = []
    evidence = Evidence(order_id, now)
    evidence.item = _attempt(notes, "table", lambda: trace_sources.get_item(clients("dynamodb"), target.table_name, order_id), None)
    created = evidence.item.get("createdAt") if evidence.item else None
    start = from_iso(created) - MARGIN if isinstance(created, str) else now - lookback
    window = (int(start.timestamp() * 1000), int(now.timestamp() * 1000))
    logs = clients("logs")
    evidence.creates = _attempt(
        notes, "CreateOrder logs", lambda: trace_logs.invocations(logs, "CreateOrder", target.create_log_group, order_id, *window), []
    )
    evidence.processes = _attempt(
        notes, "ProcessOrder logs", lambda: trace_logs.invocations(logs, "ProcessOrder", target.process_log_group, order_id, *window), []
    )
    sequences = order_sequences(evidence)
    if target.stream_arn:
        hint = min(sequences, key=int) if sequences else None
        streams, arn = clients("dynamodbstreams"), target.stream_arn
        evidence.stream = _attempt(notes, "stream", lambda: trace_sources.stream_records(streams, arn, order_id, evidence.item, hint), None)
        if evidence.stream is not None:
            sequences |= {r.sequence for r in evidence.stream.records if r.event_name == "INSERT"}
            if not evidence.stream.complete:
                notes.append(f"stream: read {evidence.stream.read} record(s) without reaching the order's last change (24 h kept)")
    if target.dlq_url and (sequences or not evidence.item or evidence.item.get("status") != "PROCESSED"):
        sqs, url = clients("sqs"), target.dlq_url
        evidence.dlq = _attempt(
            notes, "DLQ", lambda: trace_sources.dlq_entries(sqs, clients("dynamodbstreams"), url, order_id, sequences), []
        )
    if evidence.found:
        cloudwatch, names = clients("cloudwatch"), list(target.alarm_names)
        notified = evidence.state().get("notifiedAt")
        end = from_iso(notified) + MARGIN if isinstance(notified, str) else now  # while it was in flight
        evidence.alarms = _attempt(notes, "alarms", lambda: trace_sources.alarm_changes(cloudwatch, names, start, end), [])
        if evidence.state().get("status") == "NEW" and not evidence.dlq:
            evidence.firing = _attempt(notes, "alarms", lambda: trace_sources.firing_alarms(cloudwatch, names), [])
            evidence.iterator_age_ms = _attempt(
                notes, "IteratorAge", lambda: trace_sources.iterator_age_ms(cloudwatch, target.process_function, now), None
            )
    steps, verdict = timeline(evidence)
    return Trace(order_id, steps, verdict, evidence.found, notes)

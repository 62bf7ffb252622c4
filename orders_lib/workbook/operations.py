"""05_operations: the pipeline's health at a glance (alarms, charts of its metrics) and, on the
sandbox, a guided incident: SNS fails, the DLQ alarm fires and alerts the operators, the
notifications come back, a redrive completes the orders, and the alarm returns to OK.

The chart reads the pipeline's own metrics (high resolution) every ``FINE_PERIOD_S`` seconds,
so a 30-second incident shows as a few points rather than one; AWS/Lambda and AWS/SQS publish
standard-resolution metrics (one datapoint a minute), read by the minute and titled so."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ..ops import dlq as dlq_ops
from ..ops.monitoring import alarm_rows, metric_rows, series_for
from ..ops.orders import build_request
from ..ops.trace import Trace
from ..sandbox import control
from ..settings import DEFAULT_SANDBOX_ENDPOINT
from .bench import Workbench
from .trace_view import chart_name, save_trace_chart, trace_order

STATE_COLOURS = {"ALARM": "#f8d7da", "OK": "#d4edda", "INSUFFICIENT_DATA": "#fff3cd"}
DLQ_ALARM, NOTIFICATIONS_ALARM = "dlq-not-empty", "notifications-failed"
FINE_PERIOD_S = 10  # the pipeline's own metrics on the chart; CloudWatch keeps their 1-second data 3 hours


def alarm_names(bench: Workbench) -> list[str]:
    return [name for name in bench.outputs.values.get("AlarmNames", "").split(",") if name]


def alarm_named(bench: Workbench, what: str) -> str:
    """The deployed name of one of the stack's alarms (``dlq-not-empty``, ...), stage included."""
    return next(name for name in alarm_names(bench) if f"-{what}" in name)


def alarms_frame(bench: Workbench) -> pd.DataFrame:
    return pd.DataFrame(
        alarm_rows(bench.client("cloudwatch"), alarm_names(bench) or None),
        columns=["alarm", "state", "since", "metric", "threshold", "reason"],
    )


def styled_alarms(frame: pd.DataFrame) -> Any:
    """The alarms table coloured by state, for people to read at a glance."""
    return (
        frame.style.hide(axis="index")
        .map(lambda state: f"background-color: {STATE_COLOURS.get(state, '')}", subset=["state"])
        .set_properties(subset=["reason"], **{"white-space": "normal", "max-width": "40em"})
    )


def metrics_frame(bench: Workbench, minutes: int = 15, period_s: int = 60, since: datetime | None = None) -> pd.DataFrame:
    """The dashboard's series, one row per period with data; standard-resolution series (AWS/Lambda,
    AWS/SQS) by the minute whatever ``period_s``, so their columns are empty in between."""
    series = series_for(bench.outputs, bench.settings.stack_name)
    rows = metric_rows(bench.client("cloudwatch"), series, minutes=minutes, period_s=period_s, since=since)
    frame = pd.DataFrame(rows, columns=["time", *[s.column for s in series]])
    return frame.set_index("time") if not frame.empty else frame


# (title, columns, high resolution): the last panel is the pipeline's own metrics
CHARTS = [
    ("Invocations", ["create_invocations", "process_invocations"], False),
    ("Errors and throttles", ["create_errors", "create_throttles", "process_errors"], False),
    ("Duration p50 / p99 (ms)", ["create_p50_ms", "create_p99_ms", "process_p50_ms", "process_p99_ms"], False),
    ("Stream lag: IteratorAge max (ms)", ["iterator_age_ms"], False),
    ("DLQ: visible messages (max)", ["dlq_visible"], False),
    ("Pipeline: orders and notifications", ["orders_created", "orders_processed", "notifications_published", "notifications_failed"], True),
]


def health_chart(bench: Workbench, path: Path, minutes: int = 15, incident: Incident | None = None) -> tuple[pd.DataFrame, Path]:
    """The metrics and their chart: over the incident (from just before it) when one ran, else
    the last ``minutes``; the pipeline's own metrics every ``FINE_PERIOD_S`` seconds."""
    since = incident.window_start() if incident else None
    frame = metrics_frame(bench, minutes, period_s=FINE_PERIOD_S, since=since)
    what = "the incident" if incident else f"last {minutes} minutes"
    marks = incident.marks() if incident else []
    return frame, save_health_chart(frame, path, f"{bench.settings.stack_name}: {what}", FINE_PERIOD_S, marks)


def save_health_chart(
    frame: pd.DataFrame, path: Path, title: str, fine_period_s: int = 60, marks: list[tuple[datetime, str]] | None = None
) -> Path:
    """Six panels of the dashboard's metrics saved as a PNG (the notebook shows the file, so the
    chart appears once): AWS's one point a minute, the pipeline's one per ``fine_period_s``;
    ``marks`` (time, label) are drawn as vertical lines on every panel."""
    from matplotlib.dates import DateFormatter, MinuteLocator, SecondLocator
    from matplotlib.figure import Figure  # no pyplot: nothing is drawn inline behind our back

    figure = Figure(figsize=(15, 7))
    axes = figure.subplots(2, 3, sharex=True)
    times = [t.to_pydatetime() for t in frame.index] if not frame.empty else []
    span_s = (times[-1] - times[0]).total_seconds() if len(times) > 1 else 60
    step_s = next((s for s in (10, 20, 30) if span_s / s <= 8), None)  # a short span: ticks within the minute
    ticks = SecondLocator(bysecond=range(0, 60, step_s)) if step_s else MinuteLocator(interval=max(1, math.ceil(span_s / 60 / 8)))
    tick_format = DateFormatter("%H:%M:%S" if step_s else "%H:%M")
    for axis, (name, columns, fine) in zip(axes.flat, CHARTS, strict=True):
        drawn = 0
        for column in columns:
            data = frame[column].dropna() if column in frame else pd.Series(dtype=float)
            if len(data):  # each series at its own period: a standard one has no value between minutes
                axis.plot([t.to_pydatetime() for t in data.index], data.astype(float), marker="o", markersize=3, label=column)
                drawn += 1
        for at, label in marks or []:
            axis.axvline(at, color="grey", linestyle="--", linewidth=0.8)
            if fine:
                axis.annotate(label, (at, 1), xycoords=("data", "axes fraction"), rotation=90, va="top", ha="right", fontsize=7)
        if drawn:
            axis.legend(fontsize=7)
            axis.set_ylim(bottom=0)
        else:
            axis.text(0.5, 0.5, "no datapoints", ha="center", va="center", transform=axis.transAxes, color="grey")
        per = f"per {fine_period_s} s, high resolution" if fine and fine_period_s < 60 else "per minute (standard resolution on AWS)"
        axis.set_title(f"{name}, {per}", fontsize=9)
        axis.grid(alpha=0.3)
        axis.xaxis.set_major_locator(ticks)
        axis.xaxis.set_major_formatter(tick_format)
    figure.suptitle(f"{title} (UTC)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    return path


def totals(frame: pd.DataFrame, columns: list[str]) -> dict[str, int]:
    """Sums over the frame, for the printed figures next to a chart."""
    return {c: int(frame[c].fillna(0).sum()) if c in frame else 0 for c in columns}


# -- the guided incident (sandbox) -------------------------------------------------------------


@dataclass
class Incident:
    """One run of the guided incident; each step records what it saw, for the notebook to print."""

    bench: Workbench
    orders: int = 5
    inbox_url: str = ""
    order_ids: list[str] = field(default_factory=list)  # the orders sent while notifications failed
    steps: list[dict[str, Any]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    started_at: float = field(default_factory=time.time)  # wall clock, for the chart's window

    def __post_init__(self) -> None:
        if not self.bench.settings.is_sandbox:
            raise RuntimeError("the guided incident switches the sandbox's chaos on: it runs on the sandbox only")
        self.endpoint = self.bench.settings.endpoint_url or DEFAULT_SANDBOX_ENDPOINT

    def _note(self, step: str, at: float | None = None, **seen: Any) -> dict[str, Any]:
        """Record a step (``at``: when it began, wall clock; default now) and what it saw."""
        entry = {"t_s": round(time.monotonic() - self.started, 1), "step": step, **seen}
        self.steps.append({**entry, "at": time.time() if at is None else at})
        return entry

    def window_start(self) -> datetime:
        """The chart's start: the 10-second period before notifications broke (or before this
        began), so the load of earlier notebooks does not dwarf the incident. GetMetricData
        rounds a start down to its minute for 1-minute periods: Lambda's and SQS's panels
        still show the minute the incident began in."""
        broke = next((s["at"] for s in self.steps if s["step"] == "SNS failing"), self.started_at)
        return datetime.fromtimestamp(broke // FINE_PERIOD_S * FINE_PERIOD_S - FINE_PERIOD_S, UTC)

    def marks(self) -> list[tuple[datetime, str]]:
        """When notifications broke and when they were fixed, for the chart."""
        names = {"SNS failing": "SNS failing", "fixed and redriven": "fixed, redriven"}
        return [(datetime.fromtimestamp(s["at"], UTC), names[s["step"]]) for s in self.steps if s["step"] in names]

    def subscribe_operator_inbox(self) -> str:
        """An SQS queue on the operations topic, standing in for the on-call's e-mail."""
        sqs = self.bench.client("sqs")
        self.inbox_url = sqs.create_queue(QueueName=f"{self.bench.settings.stack_name}-operator-inbox")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.inbox_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.bench.client("sns").subscribe(TopicArn=self.bench.outputs["AlarmsTopicArn"], Protocol="sqs", Endpoint=arn)
        self.read_alerts()  # start from an empty inbox
        return self.inbox_url

    def clear_dlq(self) -> dict[str, Any]:
        """Start from a quiet DLQ (what earlier notebooks left is purged) and wait for its alarm to be OK."""
        purged = dlq_ops.purge(self.bench.client("sqs"), self.bench.outputs.dlq_url, confirmed=True)
        state = self.wait_for(DLQ_ALARM, "OK")
        return self._note("quiet DLQ", purged=purged, dlq_alarm=state)

    def break_notifications(self) -> dict[str, Any]:
        """Every SNS publish fails; new orders are processed but cannot be notified."""
        began = time.time()
        control.control(self.endpoint, "chaos", {"sns_publish_failure_rate": 1.0})
        ids = []
        for n in range(self.orders):
            request = build_request(
                f"C-9{n:03d}",
                "Incident Customer",
                "oncall@example.com",
                [("PEN-BLK", "Black pen", 1, "1.25")],
                "EUR",
                f"incident-{int(time.time())}-{n}",
            )
            result = self.bench.create(request)
            if result.order:
                ids.append(result.order["orderId"])
        self.order_ids = ids
        return self._note("SNS failing", at=began, orders=len(ids))

    def wait_for(self, what: str, state: str, timeout_s: float = 150.0) -> str:
        """Wait until the alarm ``what`` is in ``state``; returns the state it ended in."""
        name = alarm_named(self.bench, what)
        deadline = time.monotonic() + timeout_s
        while True:
            current = self.bench.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"]
            if current == state or time.monotonic() >= deadline:
                return current
            time.sleep(2)

    def alarm_fires(self) -> dict[str, Any]:
        dlq_state = self.wait_for(DLQ_ALARM, "ALARM")
        failed_state = self.wait_for(NOTIFICATIONS_ALARM, "ALARM", timeout_s=30)
        return self._note(
            "alarms fire",
            dlq_alarm=dlq_state,
            notifications_alarm=failed_state,
            dlq_batches=len(dlq_ops.read_batches(self.bench.client("sqs"), self.bench.outputs.dlq_url)),
        )

    def read_alerts(self, wait_s: float = 0.0) -> list[dict[str, str]]:
        """Alerts in the operator inbox: subject, new state and reason of each."""
        sqs, alerts = self.bench.client("sqs"), []
        deadline = time.monotonic() + wait_s
        while True:
            messages = sqs.receive_message(QueueUrl=self.inbox_url, MaxNumberOfMessages=10).get("Messages", [])
            for message in messages:
                envelope = json.loads(message["Body"])
                body = json.loads(envelope["Message"])
                alerts.append(
                    {
                        "subject": envelope.get("Subject", ""),
                        "alarm": body["AlarmName"],
                        "state": body["NewStateValue"],
                        "reason": body["NewStateReason"],
                    }
                )
                sqs.delete_message(QueueUrl=self.inbox_url, ReceiptHandle=message["ReceiptHandle"])
            if alerts or time.monotonic() >= deadline:
                return alerts
            time.sleep(1)

    def fix_and_redrive(self) -> dict[str, Any]:
        """Notifications work again; every failed batch goes through ProcessOrder once more."""
        began = time.time()
        control.control(self.endpoint, "chaos", {"reset": True})
        from .dlq import DlqPanel

        result = DlqPanel(self.bench).redrive_all()
        left = dlq_ops.read_batches(self.bench.client("sqs"), self.bench.outputs.dlq_url)
        return self._note(
            "fixed and redriven",
            at=began,
            redriven=int(result["redriven"].sum()) if len(result) else 0,
            failed=int(result["failed"].sum()) if len(result) else 0,
            dlq_batches_left=len(left),
        )

    def recovered(self) -> dict[str, Any]:
        """Wait for the DLQ alarm's OK. The notifications-failed alarm is read, not waited for:
        it clears once a whole minute passes without a failed publish."""
        dlq_state = self.wait_for(DLQ_ALARM, "OK")
        failed_state = self.wait_for(NOTIFICATIONS_ALARM, "OK", timeout_s=0)
        return self._note("recovered", dlq_alarm=dlq_state, notifications_alarm=failed_state)

    def trace(self, which: str, report_dir: Path) -> tuple[Trace, Path]:
        """One incident order's timeline, its chart saved as ``trace-incident-<which>.png``:
        ``failed`` traces the first order (call it while it is in the DLQ), ``recovered`` the
        last (call it after the redrive)."""
        if not self.order_ids:
            raise RuntimeError("no incident order to trace: break_notifications has not run")
        order_id = self.order_ids[0] if which == "failed" else self.order_ids[-1]
        result = trace_order(self.bench, order_id)
        return result, save_trace_chart(result, report_dir / chart_name(f"incident-{which}"), f"incident order, {which}: {order_id}")

    def history(self) -> pd.DataFrame:
        cloudwatch = self.bench.client("cloudwatch")
        rows = []
        for what in (DLQ_ALARM, NOTIFICATIONS_ALARM):
            items = cloudwatch.describe_alarm_history(AlarmName=alarm_named(self.bench, what), HistoryItemType="StateUpdate")
            rows += [{"alarm": i["AlarmName"], "time": i["Timestamp"], "change": i["HistorySummary"]} for i in items["AlarmHistoryItems"]]
        return pd.DataFrame(rows, columns=["alarm", "time", "change"]).sort_values("time") if rows else pd.DataFrame(rows)

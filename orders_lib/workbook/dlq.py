"""04_dlq: what failed and why, redrive through ProcessOrder, purge after confirmation."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import ipywidgets as w
import pandas as pd
from IPython.display import display

from ..ops import dlq
from ..ops.trace import Trace
from ..sandbox import control
from .bench import Workbench
from .trace_view import TracePanel


def inject_poison(bench: Workbench, count: int, prefix: str = "poison", spacing_s: float = 0.0) -> list[str]:
    """Write items that are not valid orders straight into the table, as a buggy writer would.

    ``spacing_s`` apart, each lands in a batch of its own, which keeps the DLQ table the same run after run.
    """
    keys = []
    for n in range(count):
        if n and spacing_s:
            time.sleep(spacing_s)
        key = f"{prefix}-{n + 1:03d}"
        bench.client("dynamodb").put_item(
            TableName=bench.outputs.table_name,
            Item={"orderId": {"S": key}, "status": {"S": "NEW"}, "note": {"S": "written by hand, no customer or items"}},
        )
        keys.append(key)
    return keys


def transient_failure(bench: Workbench, request: dict[str, Any], timeout_s: float = 30.0) -> str | None:
    """Sandbox only: make every SNS publish fail while one order is processed, so it
    reaches the DLQ still NEW (an order is PROCESSED only once its notification is
    accepted); a redrive then notifies it and completes it."""
    if not bench.settings.is_sandbox:
        return None
    endpoint = bench.settings.endpoint_url or ""
    control.control(endpoint, "chaos", {"sns_publish_failure_rate": 1.0})
    try:
        result = bench.create(request)
        order_id = result.order["orderId"] if result.order else None
        wait_for_dlq(bench, lambda batches: any(order_id in b.row()["orders"] for b in batches), timeout_s)
    finally:
        control.control(endpoint, "chaos", {"reset": True})
    return order_id


def batches(bench: Workbench) -> list[dlq.FailedBatch]:
    found = dlq.read_batches(bench.client("sqs"), bench.outputs.dlq_url)
    for batch in found:
        batch.records = dlq.load_records(bench.client("dynamodbstreams"), batch)
    return sorted(found, key=lambda b: int(b.start_sequence))


def wait_for_dlq(bench: Workbench, condition: Any, timeout_s: float = 30.0) -> list[dlq.FailedBatch]:
    deadline = time.monotonic() + timeout_s
    found: list[dlq.FailedBatch] = []
    while time.monotonic() < deadline:
        found = batches(bench)
        if condition(found):
            break
        time.sleep(0.5)
    return found


def batches_frame(found: list[dlq.FailedBatch]) -> pd.DataFrame:
    return pd.DataFrame(
        [b.row() for b in found], columns=["shard", "sequence range", "batch size", "condition", "invocations", "orders", "why"]
    )


def order_states(bench: Workbench, order_ids: list[str]) -> pd.DataFrame:
    rows = []
    for order_id in order_ids:
        item = bench.repository.get_item(order_id) or {}
        rows.append({"orderId": order_id, "status": item.get("status", "(missing)"), "notified": bool(item.get("notifiedAt"))})
    return pd.DataFrame(rows, columns=["orderId", "status", "notified"])


def entry_orders(found: list[dlq.FailedBatch]) -> list[str]:
    """The order ids the DLQ's entries carry, oldest entry first, each once."""
    seen: dict[str, None] = {}
    for batch in found:
        for record in batch.records:
            order_id = dlq.explain(record)["orderId"]
            if order_id and order_id != "?":
                seen.setdefault(str(order_id), None)
    return list(seen)


class DlqPanel:
    """The DLQ as a table with Redrive and a confirmed Purge, and a **Trace** of any order an
    entry carries. Buttons call redrive_all / purge / trace."""

    def __init__(self, bench: Workbench, report_dir: Path | None = None) -> None:
        self.bench = bench
        self.entry = w.Dropdown(options=[], description="DLQ order")
        self.trace_button = w.Button(description="Trace", icon="search")
        self.tracer = TracePanel(bench, report_dir=report_dir)
        self.trace_button.on_click(lambda _: self.trace())
        self.redrive_button = w.Button(description="Redrive", button_style="warning", icon="repeat")
        self.confirm = w.Checkbox(value=False, description="I understand purge deletes these records for good")
        self.purge_button = w.Button(description="Purge", button_style="danger", icon="trash")
        self.output = w.Output()
        self.last_redrive: pd.DataFrame | None = None
        self.redrive_button.on_click(lambda _: self.redrive_all())
        self.purge_button.on_click(lambda _: self.purge(self.confirm.value))

    def refresh_entries(self) -> list[str]:
        """The orders in the DLQ, offered for tracing."""
        self.entry.options = entry_orders(batches(self.bench))
        return list(self.entry.options)

    def trace(self, order_id: str | None = None, chart_label: str | None = None) -> Trace:
        """The timeline of ``order_id`` (default: the order picked in the list)."""
        wanted = order_id or self.entry.value
        if not wanted:
            raise ValueError("no DLQ entry picked: the DLQ may be empty (refresh the list)")
        return self.tracer.show_trace(wanted, chart_label)

    def redrive_all(self) -> pd.DataFrame:
        """Send every failed batch's records through ProcessOrder; one row per batch."""
        rows = []
        for batch in batches(self.bench):
            outcome = dlq.redrive(
                self.bench.client("lambda"),
                self.bench.client("sqs"),
                self.bench.outputs.dlq_url,
                self.bench.outputs.process_function,
                batch,
            )
            rows.append({"sequence range": batch.row()["sequence range"], "orders": batch.row()["orders"], **outcome})
        self.last_redrive = pd.DataFrame(rows, columns=["sequence range", "orders", "redriven", "failed", "deleted"])
        self._show(self.last_redrive)
        return self.last_redrive

    def purge(self, confirmed: bool) -> str:
        try:
            message = f"purged {dlq.purge(self.bench.client('sqs'), self.bench.outputs.dlq_url, confirmed=confirmed)} message(s)"
        except PermissionError as refusal:
            message = f"not purged: {refusal}"
        self._show(message)
        return message

    def _show(self, value: Any) -> None:
        self.output.outputs = ()  # set state, don't print: see forms.show_text
        if isinstance(value, str):
            self.output.append_stdout(value + "\n")
        else:
            self.output.append_display_data(value)

    def show(self) -> None:
        self.refresh_entries()
        tracing = w.HBox([self.entry, self.trace_button])
        purging = w.HBox([self.confirm, self.purge_button])
        display(w.VBox([tracing, self.tracer.table, self.tracer.chart, self.redrive_button, purging, self.output]))

"""One order's trace in the workbook: a Trace button and its panel (the timeline as a table and a
Gantt-like chart of the steps), used by 02_create_orders, 04_dlq and 05_operations.

The trace itself is ``orders_lib.ops.trace`` (the same calls as ``orders trace``); this module
only draws it. In the chart each row is a step, oldest on top: an invocation is a bar as long as
its ``REPORT`` duration, anything else (a write, a publish, a DLQ entry, an alarm) a marker at its
time. The x axis is milliseconds since the order's first step.
"""

from __future__ import annotations

import html
import io
import re
from pathlib import Path
from typing import Any

import ipywidgets as w
from IPython.display import HTML, Image, display
from matplotlib.figure import Figure  # no pyplot: nothing is drawn inline behind our back

from ..ops.trace import Trace, TraceTarget, trace
from .bench import Workbench

SOURCE_COLOURS = {
    "CreateOrder": "#4C72B0",
    "table": "#55A868",
    "stream": "#8172B2",
    "ProcessOrder": "#DD8452",
    "SNS": "#64B5CD",
    "DLQ": "#C44E52",
    "alarm": "#937860",
}
LABEL_CHARS = 58


def trace_order(bench: Workbench, order_id: str) -> Trace:
    """The order's trace on the bench's target (the same calls as ``orders trace``)."""
    return trace(order_id, bench.client, TraceTarget.from_outputs(bench.outputs))


def _label(row: dict[str, Any]) -> str:
    text = f"{row['source']}: {row['what']}"
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def bars(result: Trace) -> list[dict[str, Any]]:
    """One bar per step: start (ms since the first step), length (the invocation's duration, 0
    for an instant), label and colour; what the chart draws, kept apart so it can be checked."""
    rows = result.rows()
    if not rows:
        return []
    first = rows[0]["at"]
    drawn = []
    for row in rows:
        duration = row["details"].get("duration_ms") if row["source"] in ("CreateOrder", "ProcessOrder") else None
        drawn.append(
            {
                "start_ms": (row["at"] - first).total_seconds() * 1000,
                "length_ms": float(duration) if isinstance(duration, (int, float)) else 0.0,
                "label": _label(row),
                "colour": SOURCE_COLOURS.get(row["source"], "#777777"),
            }
        )
    return drawn


def trace_figure(result: Trace, title: str | None = None) -> Figure:
    """The steps as a Gantt-like chart, oldest at the top; the verdict under the title."""
    drawn = bars(result)
    figure = Figure(figsize=(11, 0.42 * max(len(drawn), 2) + 1.4))
    axes = figure.subplots()
    end = max((b["start_ms"] + b["length_ms"] for b in drawn), default=1.0) or 1.0
    for y, bar in enumerate(drawn):
        if bar["length_ms"] > 0:  # at least a sliver: a 5 ms invocation in a 30 s trace stays visible
            axes.barh(y, max(bar["length_ms"], end * 0.004), left=bar["start_ms"], height=0.55, color=bar["colour"])
        else:
            axes.plot(bar["start_ms"], y, marker="D", markersize=8, color=bar["colour"])
    axes.set_yticks(range(len(drawn)), [b["label"] for b in drawn], fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(-0.02 * end, end * 1.05)
    axes.set_xlabel("ms since the first step")
    axes.grid(axis="x", alpha=0.3)
    axes.set_title(f"{title or 'order ' + result.order_id}\n{result.verdict}", fontsize=10, loc="left")
    figure.tight_layout()
    return figure


def save_trace_chart(result: Trace, path: Path, title: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    trace_figure(result, title).savefig(path, dpi=110)
    return path


def outline(result: Trace, without: tuple[str, ...] = ()) -> str:
    """The trace as checked text: each step's source and what it says (no times or ids, which
    change run to run), then the verdict. ``without`` leaves sources out (the alarms' changes
    depend on what else ran in the same minutes)."""
    lines = [f"{row['source']:<12} {row['what']}" for row in result.rows() if row["source"] not in without]
    return "\n".join([*lines, f"verdict: {result.verdict}"])


def steps_html(result: Trace) -> str:
    """The timeline as an HTML table: time to the millisecond, gap, source, what, details."""
    cells = []
    for row in result.rows():
        gap = "" if row["gap_ms"] is None else f"+{row['gap_ms']:.0f} ms"
        details = ", ".join(f"{k}={v}" for k, v in row["details"].items() if v is not None)
        values = (f"{row['at']:%H:%M:%S.%f}"[:-3], gap, row["source"], row["what"], details)
        cells.append("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in values) + "</tr>")
    head = "".join(f"<th>{h}</th>" for h in ("at", "gap", "source", "what", "details"))
    notes = "".join(f"<div><i>note: {html.escape(n)}</i></div>" for n in result.notes)
    return (
        f"<b>{html.escape(result.order_id)}</b>: {html.escape(result.verdict)}"
        f'<table class="order-trace"><tr>{head}</tr>{"".join(cells)}</table>{notes}'
    )


def show(result: Trace, chart: Path | None = None) -> None:
    """The table and the chart as cell output (what an executed notebook's report keeps)."""
    display(HTML(steps_html(result)))
    if chart is not None:
        display(Image(filename=str(chart)))


def chart_name(label: str) -> str:
    """``trace-<label>.png``, the label made safe for a file name."""
    return "trace-" + (re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-") or "order") + ".png"


class TracePanel:
    """An order id box, a **Trace** button, and the timeline (table and chart) it shows. The
    button calls ``show_trace``, the method an unattended run calls."""

    def __init__(self, bench: Workbench, order_id: str = "", report_dir: Path | None = None) -> None:
        self.bench, self.report_dir = bench, report_dir
        self.order_id = w.Text(value=order_id, description="Order id", placeholder="an orderId", layout=w.Layout(width="420px"))
        self.button = w.Button(description="Trace", icon="search")
        self.table = w.HTML()
        self.chart = w.Output()
        self.last: Trace | None = None
        self.last_chart: Path | None = None
        self.button.on_click(lambda _: self.show_trace())

    def show_trace(self, order_id: str | None = None, chart_label: str | None = None) -> Trace:
        """Trace ``order_id`` (default: the box's), show the table and the chart, and save the
        chart as ``trace-<label>.png`` in the report folder when there is one."""
        if order_id:
            self.order_id.value = order_id
        wanted = self.order_id.value.strip()
        if not wanted:
            self.table.value = "<i>enter an order id to trace</i>"
            raise ValueError("no order id to trace")
        self.last = result = trace_order(self.bench, wanted)
        self.table.value = steps_html(result)
        png = io.BytesIO()
        trace_figure(result).savefig(png, format="png", dpi=110)
        if self.report_dir is not None:
            self.last_chart = self.report_dir / chart_name(chart_label or wanted)
            self.last_chart.parent.mkdir(parents=True, exist_ok=True)
            self.last_chart.write_bytes(png.getvalue())
        self.chart.outputs = ()
        self.chart.append_display_data(Image(data=png.getvalue(), format="png"))
        return result

    def widget(self) -> w.Widget:
        return w.VBox([w.HBox([self.order_id, self.button]), self.table, self.chart])

    def show(self) -> None:
        display(self.widget())

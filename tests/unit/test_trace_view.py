"""The workbook's trace view: what the Gantt-like chart draws, the checked outline, the table and
the saved PNG, from a handmade trace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orders_lib.ops.trace import Trace
from orders_lib.ops.trace_timeline import Step
from orders_lib.workbook import trace_view

T0 = datetime(2026, 11, 30, 7, 0, 0, tzinfo=UTC)


def at(ms: float) -> datetime:
    return T0 + timedelta(milliseconds=ms)


@pytest.fixture
def result() -> Trace:
    steps = [
        Step(at(0), "CreateOrder", "CreateOrder answered 201 (created)", {"request_id": "c-1", "duration_ms": 40.5}),
        Step(at(30), "table", "written: status NEW (createdAt)", {"ttl": "2026-12-07T07:00:00+00:00", "stream_insert": "103"}),
        Step(at(120), "ProcessOrder", "batch of 1, attempt 1: done", {"request_id": "p-1", "duration_ms": 200.0}),
        Step(at(300), "SNS", "notification published", {"message_id": "m-1"}),
        Step(at(310), "table", "PROCESSED: SNS accepted the notification (notifiedAt)", {"status": "PROCESSED", "stream_modify": None}),
    ]
    return Trace("order-1", steps, "notified in 280 ms", True, ["alarms: AccessDenied: no"])


def test_invocations_are_bars_as_long_as_their_report_and_the_rest_are_instants(result):
    drawn = trace_view.bars(result)
    assert [(b["start_ms"], b["length_ms"]) for b in drawn] == [(0.0, 40.5), (30.0, 0.0), (120.0, 200.0), (300.0, 0.0), (310.0, 0.0)]
    assert drawn[2]["label"] == "ProcessOrder: batch of 1, attempt 1: done"
    assert drawn[4]["label"].endswith("…") and len(drawn[4]["label"]) == trace_view.LABEL_CHARS
    assert drawn[0]["colour"] != drawn[2]["colour"]
    assert trace_view.bars(Trace("x", [], "unknown order id", False)) == []


def test_the_outline_has_no_times_and_ends_with_the_verdict(result):
    lines = trace_view.outline(result).splitlines()
    assert lines[0] == "CreateOrder  CreateOrder answered 201 (created)"
    assert lines[-1] == "verdict: notified in 280 ms" and len(lines) == 6


def test_the_table_escapes_and_shows_gaps_and_notes(result):
    result.steps[3] = Step(at(300), "SNS", "notification <published>", {"message_id": "m-1"})
    table = trace_view.steps_html(result)
    assert "notification &lt;published&gt;" in table and "<published>" not in table
    assert "<td>+90 ms</td>" in table and "message_id=m-1" in table and "stream_modify" not in table
    assert "note: alarms: AccessDenied: no" in table


def test_the_chart_is_saved_as_a_png(result, tmp_path):
    path = trace_view.save_trace_chart(result, tmp_path / "reports" / trace_view.chart_name("a normal order"))
    assert path.name == "trace-a-normal-order.png" and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    figure = trace_view.trace_figure(result)
    [axes] = figure.axes
    assert axes.get_yticklabels()[0].get_text() == "CreateOrder: CreateOrder answered 201 (created)"
    assert axes.get_title(loc="left").endswith("notified in 280 ms")
    assert len(axes.patches) == 2  # two invocations drawn as bars


def test_the_panel_refuses_an_empty_id():
    panel = trace_view.TracePanel(bench=None)  # type: ignore[arg-type]  # never reached: the id is checked first
    with pytest.raises(ValueError, match="no order id"):
        panel.show_trace()
    assert "enter an order id" in panel.table.value

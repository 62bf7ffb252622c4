"""The health view's reads: each series asked at a period its resolution allows, rows merged by
time, and the chart drawing each series at its own period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from orders_lib.ops.monitoring import Series, metric_rows, series_for
from orders_lib.ops.stack import StackOutputs
from orders_lib.workbook.operations import save_health_chart

NOW = datetime(2027, 1, 15, 8, 5, 0, tzinfo=UTC)
OUTPUTS = StackOutputs({"CreateOrderFunctionName": "create", "ProcessOrderFunctionName": "process", "DlqName": "dlq"})


class FakeCloudWatch:
    """GetMetricData's paginator over canned series; keeps the queries it was given."""

    def __init__(self, answers):
        self.answers, self.asked = answers, []

    def get_paginator(self, name):
        assert name == "get_metric_data"
        return self

    def paginate(self, MetricDataQueries, StartTime, EndTime, ScanBy):
        self.asked.append((MetricDataQueries, StartTime, EndTime))
        results = []
        for query in MetricDataQueries:
            points = self.answers.get(query["Label"], [])
            results.append({"Id": query["Id"], "Timestamps": [t for t, _ in points], "Values": [v for _, v in points]})
        return [{"MetricDataResults": results}]


def test_the_pipelines_own_series_are_high_resolution_and_aws_ones_are_not():
    series = {s.column: s for s in series_for(OUTPUTS, "techtest-orders")}
    assert series["notifications_failed"].high_resolution and series["orders_created"].high_resolution
    assert not series["process_invocations"].high_resolution and not series["dlq_visible"].high_resolution
    assert [series["orders_created"].period_for(p) for p in (10, 60, 300)] == [10, 60, 300]
    assert [series["dlq_visible"].period_for(p) for p in (10, 60, 90, 300)] == [60, 60, 120, 300]


def test_rows_ask_aws_metrics_by_the_minute_and_the_pipelines_at_ten_seconds():
    fine = Series("notifications_failed", "TechtestOrders", "NotificationsFailed", (("service", "s"),), "Sum", high_resolution=True)
    coarse = Series("process_invocations", "AWS/Lambda", "Invocations", (("FunctionName", "process"),), "Sum")
    minute = NOW - timedelta(minutes=1)
    cloudwatch = FakeCloudWatch(
        {"notifications_failed": [(minute, 2.0), (minute + timedelta(seconds=10), 3.0)], "process_invocations": [(minute, 7.0)]}
    )
    rows = metric_rows(cloudwatch, [fine, coarse], period_s=10, now=NOW, since=NOW - timedelta(minutes=2))
    queries, start, end = cloudwatch.asked[0]
    assert {q["Label"]: q["MetricStat"]["Period"] for q in queries} == {"notifications_failed": 10, "process_invocations": 60}
    assert start == NOW - timedelta(minutes=2) and end == NOW + timedelta(minutes=1)
    assert rows == [
        {"time": minute, "notifications_failed": 2.0, "process_invocations": 7.0},
        {"time": minute + timedelta(seconds=10), "notifications_failed": 3.0, "process_invocations": None},
    ]


def test_the_chart_draws_every_series_at_its_own_period_and_says_which(tmp_path, monkeypatch):
    times = [NOW + timedelta(seconds=10 * n) for n in range(12)]
    frame = pd.DataFrame(
        {"process_invocations": [5.0 if t.second == 0 else None for t in times], "notifications_failed": [float(n % 3) for n in range(12)]},
        index=pd.Index(times, name="time"),
    )
    drawn = {}
    from matplotlib.axes import Axes

    original_plot, original_title = Axes.plot, Axes.set_title

    def plot(axis, x, y, **kwargs):
        drawn[kwargs["label"]] = list(y)
        return original_plot(axis, x, y, **kwargs)

    titles = []
    monkeypatch.setattr(Axes, "plot", plot)
    monkeypatch.setattr(Axes, "set_title", lambda axis, text, **kw: titles.append(text) or original_title(axis, text, **kw))
    path = save_health_chart(frame, tmp_path / "operations.png", "t", 10, [(NOW + timedelta(seconds=30), "SNS failing")])
    assert path.stat().st_size > 10_000
    assert drawn == {"process_invocations": [5.0, 5.0], "notifications_failed": [float(n % 3) for n in range(12)]}, "no gaps drawn"
    assert titles[0] == "Invocations, per minute (standard resolution on AWS)"
    assert titles[-1] == "Pipeline: orders and notifications, per 10 s, high resolution"

"""The pipeline's health from CloudWatch, the same on the sandbox and on AWS: its alarms with
state and reason, and the metrics its dashboard shows, one row per period (GetMetricData, one
call for every series).

The pipeline's own metrics are high-resolution (``orders_lib.pipeline.metrics``) and may be
read at 1, 5, 10, 20 or 30 s; AWS/Lambda's and AWS/SQS's are standard resolution on AWS (one
datapoint a minute), so they are always asked by the minute at least (``Series.period_for``).
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Resolution_definition
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..pipeline import metrics as pipeline
from .stack import StackOutputs

STATES = ("ALARM", "INSUFFICIENT_DATA", "OK")  # worst first


@dataclass(frozen=True)
class Series:
    """One line of a chart: what to ask GetMetricData for, and its column name."""

    column: str
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str
    high_resolution: bool = False

    def period_for(self, period_s: int) -> int:
        """``period_s`` for a high-resolution series; a standard one never below a minute."""
        return period_s if self.high_resolution else max(60, -(-period_s // 60) * 60)


def series_for(outputs: StackOutputs, service: str) -> list[Series]:
    """Everything the dashboard shows, with the deployed stack's names."""
    create = (("FunctionName", outputs.create_function),)
    process = (("FunctionName", outputs.process_function),)
    own = (("service", service),)
    return [
        Series("create_invocations", "AWS/Lambda", "Invocations", create, "Sum"),
        Series("create_errors", "AWS/Lambda", "Errors", create, "Sum"),
        Series("create_throttles", "AWS/Lambda", "Throttles", create, "Sum"),
        Series("create_p50_ms", "AWS/Lambda", "Duration", create, "p50"),
        Series("create_p99_ms", "AWS/Lambda", "Duration", create, "p99"),
        Series("process_invocations", "AWS/Lambda", "Invocations", process, "Sum"),
        Series("process_errors", "AWS/Lambda", "Errors", process, "Sum"),
        Series("process_p50_ms", "AWS/Lambda", "Duration", process, "p50"),
        Series("process_p99_ms", "AWS/Lambda", "Duration", process, "p99"),
        Series("iterator_age_ms", "AWS/Lambda", "IteratorAge", process, "Maximum"),
        Series("dlq_visible", "AWS/SQS", "ApproximateNumberOfMessagesVisible", (("QueueName", outputs["DlqName"]),), "Maximum"),
        *[Series(_snake(name), pipeline.NAMESPACE, name, own, "Sum", high_resolution=True) for name in pipeline.ALL],
    ]


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def alarm_rows(cloudwatch: Any, names: list[str] | None = None) -> list[dict[str, Any]]:
    """The alarms (all, or ``names``), worst state first: name, state, since, reason."""
    pages = cloudwatch.get_paginator("describe_alarms").paginate(**({"AlarmNames": names} if names else {}))
    alarms = [alarm for page in pages for alarm in page["MetricAlarms"]]
    rows = [
        {
            "alarm": alarm["AlarmName"],
            "state": alarm["StateValue"],
            "since": _when(alarm.get("StateUpdatedTimestamp")),
            "metric": f"{alarm.get('Namespace')} {alarm.get('MetricName')} {alarm.get('Statistic') or alarm.get('ExtendedStatistic')}",
            "threshold": alarm.get("Threshold"),
            "reason": alarm.get("StateReason", ""),
        }
        for alarm in alarms
    ]
    return sorted(rows, key=lambda row: (STATES.index(row["state"]) if row["state"] in STATES else 0, row["alarm"]))


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    return str(value or "")


def metric_rows(
    cloudwatch: Any,
    series: list[Series],
    minutes: int = 30,
    period_s: int = 60,
    now: datetime | None = None,
    since: datetime | None = None,
) -> list[dict[str, Any]]:
    """One row per period (of ``period_s``, or a minute for a standard-resolution series) since
    ``since`` or in the last ``minutes`` that has data: its start time and every series' value
    (None where a series has no datapoint at that time)."""
    end = (now or datetime.now(UTC)) + timedelta(seconds=max(period_s, 60))
    start = since or end - timedelta(minutes=minutes)
    queries = [
        {
            "Id": f"m{index}",
            "Label": s.column,
            "ReturnData": True,
            "MetricStat": {
                "Metric": {
                    "Namespace": s.namespace,
                    "MetricName": s.metric,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in s.dimensions],
                },
                "Period": s.period_for(period_s),
                "Stat": s.stat,
            },
        }
        for index, s in enumerate(series)
    ]
    by_time: dict[datetime, dict[str, Any]] = {}
    paginator = cloudwatch.get_paginator("get_metric_data")
    for page in paginator.paginate(MetricDataQueries=queries, StartTime=start, EndTime=end, ScanBy="TimestampAscending"):
        for result in page["MetricDataResults"]:
            column = series[int(result["Id"][1:])].column
            for at, value in zip(result["Timestamps"], result["Values"], strict=True):
                by_time.setdefault(at.astimezone(UTC), {})[column] = value
    return [{"time": at, **{s.column: values.get(s.column) for s in series}} for at, values in sorted(by_time.items())]

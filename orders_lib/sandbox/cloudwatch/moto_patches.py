"""Where the sandbox's CloudWatch plugs into moto 5.2.

* Alarms from a CloudFormation template, which moto's CloudFormation skips ("No Moto
  CloudFormation support for AWS::CloudWatch::Alarm"): created, replaced and deleted through
  moto's own CloudWatch backend, so ``describe-alarms`` lists the stack's alarms. A new alarm
  starts in ``INSUFFICIENT_DATA``, as on AWS.
* The data plane (PutMetricData, GetMetricData, GetMetricStatistics with percentiles, ListMetrics)
  reads and writes the sandbox's metric store, and DescribeAlarmHistory (not in moto) answers
  from the alarm evaluator's history (see ``service``). PutMetricData's ``StorageResolution`` 1
  stores a high-resolution datapoint; a period CloudWatch does not take (not 1, 5, 10, 20, 30
  or a multiple of 60) is refused, by GetMetricStatistics with ``InvalidParameterValue`` (its
  documented error for a bad parameter) and by GetMetricData with ``ValidationError``; more
  than 1,440 datapoints asked of GetMetricStatistics is ``InvalidParameterCombination``.
Properties: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudwatch-alarm.html
GetMetricStatistics (errors, the 1,440 limit): https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.cloudwatch.exceptions import InvalidParameterCombination, InvalidParameterValue, ValidationError
from moto.cloudwatch.metric_data_expression_parser import parse_expression
from moto.cloudwatch.models import CloudWatchBackend, cloudwatch_backends
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.common_models import CloudFormationModel
from moto.core.responses import ActionResult

from orders_lib.sandbox.cloudwatch.alarm_rules import INSUFFICIENT
from orders_lib.sandbox.cloudwatch.metric_store import HIGH_RESOLUTION, InvalidPeriod, MetricKey, UnknownStatistic, validate_period
from orders_lib.sandbox.patching import Patches

if TYPE_CHECKING:
    from orders_lib.sandbox.cloudwatch.service import SandboxCloudWatch


class TemplateAlarm(CloudFormationModel):
    """``AWS::CloudWatch::Alarm`` (a metric alarm): the stack's handle on an alarm kept by moto's
    CloudWatch backend, which is what the APIs read."""

    def __init__(self, name: str, arn: str):
        self.name, self.arn = name, arn

    @property
    def physical_resource_id(self) -> str:
        return self.name  # what Ref gives on AWS

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name == "Arn":
            return self.arn
        raise UnformattedGetAttTemplateException()

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudWatch::Alarm"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "AlarmName"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> TemplateAlarm:
        props = cloudformation_json["Properties"]
        name = props.get("AlarmName") or resource_name
        alarm = cloudwatch_backends[account_id][region_name].put_metric_alarm(
            name=name,
            namespace=props.get("Namespace"),
            metric_name=props.get("MetricName"),
            comparison_operator=props["ComparisonOperator"],
            evaluation_periods=int(props["EvaluationPeriods"]),
            period=int(props.get("Period", 60)),
            threshold=float(props["Threshold"]) if "Threshold" in props else None,  # type: ignore[arg-type]
            statistic=props.get("Statistic"),
            extended_statistic=props.get("ExtendedStatistic"),
            description=props.get("AlarmDescription", ""),
            dimensions=[{"Name": d["Name"], "Value": d["Value"]} for d in props.get("Dimensions", [])],
            alarm_actions=list(props.get("AlarmActions", [])),
            ok_actions=list(props.get("OKActions", [])),
            insufficient_data_actions=list(props.get("InsufficientDataActions", [])),
            datapoints_to_alarm=int(props["DatapointsToAlarm"]) if "DatapointsToAlarm" in props else None,
            unit=props.get("Unit"),
            actions_enabled=str(props.get("ActionsEnabled", True)).lower() != "false",
            treat_missing_data=props.get("TreatMissingData", "missing"),
            evaluate_low_sample_count_percentile=props.get("EvaluateLowSampleCountPercentile"),
        )
        return cls(name, alarm.alarm_arn)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: TemplateAlarm,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> TemplateAlarm:
        cls.delete_from_cloudformation_json(original_resource.name, cloudformation_json, account_id, region_name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        name = cloudformation_json.get("Properties", {}).get("AlarmName") or resource_name
        cloudwatch_backends[account_id][region_name].delete_alarms([name])


def register() -> None:
    """Make moto's CloudFormation see the model (its type map is cached on first use)."""
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()


# -- the data plane: PutMetricData, GetMetricData, GetMetricStatistics, ListMetrics and
# DescribeAlarmHistory answered from the sandbox's own store (``metric_store``) and alarm history.

_PATCHES = Patches("CloudWatch")
MAX_STATISTICS_DATAPOINTS = 1440
PERIODS = "1, 5, 10, 20, 30 or a multiple of 60"


def _epoch(value: Any, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, datetime):
        return value.replace(tzinfo=value.tzinfo or UTC).timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value)
    try:
        return float(text)
    except ValueError:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None).replace(tzinfo=UTC).timestamp()


def _key(namespace: str, name: str, dimensions: list[dict[str, str]] | None) -> MetricKey:
    return MetricKey.of(namespace, name, {d["Name"]: d["Value"] for d in dimensions or []})


def install(sandbox_cloudwatch: SandboxCloudWatch) -> None:
    store = sandbox_cloudwatch.store
    _PATCHES.begin()
    register()
    moto_put_metric_alarm = CloudWatchBackend.put_metric_alarm

    def put_metric_data(self: CloudWatchBackend, namespace: str, metric_data: list[dict[str, Any]]) -> None:
        for index, metric in enumerate(metric_data):
            self._validate_parameters_put_metric_data(metric, index + 1)  # AWS's errors, as moto words them
        now = time.time()
        for metric in metric_data:
            key = _key(namespace, metric["MetricName"], metric.get("Dimensions"))
            at, unit = _epoch(metric.get("Timestamp"), now), metric.get("Unit")
            high = str(metric.get("StorageResolution", "60")) == str(HIGH_RESOLUTION)
            if metric.get("Values"):
                counts = metric.get("Counts") or [1] * len(metric["Values"])
                for value, count in zip(metric["Values"], counts, strict=False):
                    store.put(key, float(value), at=at, unit=unit, count=float(count), high_resolution=high)
            elif metric.get("StatisticValues"):
                stats = metric["StatisticValues"]
                store.put_statistics(
                    key,
                    count=float(stats["SampleCount"]),
                    total=float(stats["Sum"]),
                    low=float(stats["Minimum"]),
                    high=float(stats["Maximum"]),
                    at=at,
                    unit=unit,
                    high_resolution=high,
                )
            else:
                store.put(key, float(metric.get("Value", 0)), at=at, unit=unit, high_resolution=high)

    def statistics(
        self: CloudWatchBackend,
        namespace: str,
        metric_name: str,
        start_time: Any,
        end_time: Any,
        period: int,
        stats: list[str],
        dimensions: list[dict[str, str]],
        unit: str | None = None,
        extended: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        start, end = _epoch(start_time, 0), _epoch(end_time, time.time())
        if start >= end:
            raise InvalidParameterValue("The parameter StartTime must be less than the parameter EndTime.")
        try:
            validate_period(int(period))
        except InvalidPeriod:
            raise InvalidParameterValue(f"The parameter Period must be {PERIODS}.") from None
        asked = math.ceil((end - start) / int(period))
        if asked > MAX_STATISTICS_DATAPOINTS:
            raise InvalidParameterCombination(
                f"You have requested up to {asked} datapoints, which exceeds the limit of {MAX_STATISTICS_DATAPOINTS}. "
                "You may reduce the datapoints requested by increasing Period, or decreasing the time range."
            )
        key = _key(namespace, metric_name, dimensions)
        points: dict[float, dict[str, Any]] = {}
        for stat in [*stats, *(extended or [])]:
            try:
                series = store.series(key, stat, start, end, period)
            except UnknownStatistic as error:
                raise InvalidParameterValue(str(error)) from None
            for at, value in series:
                point = points.setdefault(at, {"Timestamp": datetime.fromtimestamp(at, UTC), "Unit": unit or store.unit(key) or "None"})
                if stat in stats:
                    point[stat] = value
                else:
                    point.setdefault("ExtendedStatistics", {})[stat] = value
        return [points[at] for at in sorted(points)]

    def response_statistics(self: CloudWatchResponse) -> ActionResult:
        statistics_ = self._get_param("Statistics", [])
        extended = self._get_param("ExtendedStatistics", [])
        if not statistics_ and not extended:
            raise InvalidParameterCombination("Must specify either Statistics or ExtendedStatistics")
        datapoints = statistics(
            self.cloudwatch_backend,
            self._get_param("Namespace"),
            self._get_param("MetricName"),
            self._get_param("StartTime"),
            self._get_param("EndTime"),
            self._get_int_param("Period"),
            statistics_,
            self._get_param("Dimensions", []),
            self._get_param("Unit"),
            extended,
        )
        return ActionResult({"Label": self._get_param("MetricName"), "Datapoints": datapoints})

    def get_metric_data(
        self: CloudWatchBackend, queries: list[dict[str, Any]], start_time: Any, end_time: Any, scan_by: str = "TimestampDescending"
    ) -> list[dict[str, Any]]:
        start, end = _epoch(start_time, 0), _epoch(end_time, time.time())
        if start >= end:
            raise ValidationError("The parameter EndTime must be greater than StartTime.")
        results, returned = [], []
        for number, query in enumerate(queries, start=1):
            if "MetricStat" not in query:
                continue
            stat = query["MetricStat"]
            metric = stat["Metric"]
            try:
                validate_period(int(stat["Period"]))
            except InvalidPeriod:
                raise ValidationError(f"The parameter MetricDataQueries.member.{number}.MetricStat.Period must be {PERIODS}.") from None
            try:
                series = store.series(
                    _key(metric["Namespace"], metric["MetricName"], metric.get("Dimensions")), stat["Stat"], start, end, int(stat["Period"])
                )
            except UnknownStatistic as error:
                raise ValidationError(str(error)) from None
            if scan_by != "TimestampAscending":
                series.reverse()
            result = {
                "id": query["Id"],
                "label": query.get("Label") or f"{metric['MetricName']} {stat['Stat']}",
                "values": [v for _, v in series],
                "timestamps": [datetime.fromtimestamp(t, UTC) for t, _ in series],
                "status_code": "Complete",
            }
            results.append(result)
            if str(query.get("ReturnData", True)).lower() != "false":
                returned.append(result)
        for query in queries:  # metric math over the results above, as moto evaluates it
            if "Expression" in query and not query["Expression"].startswith("SELECT"):
                values, timestamps = parse_expression(query["Expression"], results)
                returned.append(
                    {
                        "id": query["Id"],
                        "label": query.get("Label") or query["Id"],
                        "values": values,
                        "timestamps": timestamps,
                        "status_code": "Complete",
                    }
                )
        return returned

    def list_metrics(
        self: CloudWatchBackend, next_token: str | None, namespace: str, metric_name: str, dimensions: list[dict[str, str]]
    ) -> tuple[str | None, list[dict[str, Any]]]:
        wanted = {d["Name"]: d.get("Value") for d in dimensions or []}
        keys = store.keys(namespace, metric_name, wanted)
        start = int(next_token or 0)
        page = keys[start : start + 500]
        following = str(start + 500) if start + 500 < len(keys) else None
        return following, [
            {"Namespace": k.namespace, "MetricName": k.name, "Dimensions": [{"Name": n, "Value": v} for n, v in k.dimensions]} for k in page
        ]

    def put_metric_alarm(self: CloudWatchBackend, *args: Any, **kwargs: Any) -> Any:
        alarm = moto_put_metric_alarm(self, *args, **kwargs)
        alarm.state_value = INSUFFICIENT  # where a new alarm starts on AWS (moto says OK)
        return alarm

    def describe_alarm_history(self: CloudWatchResponse) -> ActionResult:
        items = sandbox_cloudwatch.alarm_history(self._get_param("AlarmName"), self._get_param("HistoryItemType"))
        start, end = self._get_param("StartDate"), self._get_param("EndDate")
        if start is not None:
            items = [i for i in items if i["Timestamp"].timestamp() >= _epoch(start, 0)]
        if end is not None:
            items = [i for i in items if i["Timestamp"].timestamp() <= _epoch(end, time.time())]
        if self._get_param("ScanBy") == "TimestampAscending":
            items.reverse()
        limit = int(self._get_param("MaxRecords") or 100)
        return ActionResult({"AlarmHistoryItems": items[:limit]})

    for name, value in (
        ("put_metric_data", put_metric_data),
        ("get_metric_data", get_metric_data),
        ("get_metric_statistics", statistics),
        ("list_metrics", list_metrics),
        ("put_metric_alarm", put_metric_alarm),
    ):
        _PATCHES.replace(CloudWatchBackend, name, value)
    _PATCHES.replace(CloudWatchResponse, "get_metric_statistics", response_statistics)
    _PATCHES.replace(CloudWatchResponse, "describe_alarm_history", describe_alarm_history)


def uninstall() -> None:
    _PATCHES.restore()

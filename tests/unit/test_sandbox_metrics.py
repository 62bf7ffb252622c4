"""The sandbox's CloudWatch: the metric store's statistics, the embedded-metric-format reader,
alarm rules as CloudWatch evaluates them, and the runner's state changes, history and messages."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from orders_lib.sandbox.cloudwatch.alarm_rules import AlarmRule, Unsupported, evaluate
from orders_lib.sandbox.cloudwatch.emf import metrics_in
from orders_lib.sandbox.cloudwatch.metric_store import InvalidPeriod, MetricKey, MetricStore, UnknownStatistic, compute
from orders_lib.sandbox.cloudwatch.service import SandboxCloudWatch, lambda_key, rule_of

T0 = 1_800_000_000.0  # a minute boundary (divisible by 60)
KEY = MetricKey.of("AWS/Lambda", "Duration", {"FunctionName": "f"})


def store_with(*points: tuple[float, float]) -> MetricStore:
    store = MetricStore(clock=lambda: T0 + 3600)
    for at, value in points:
        store.put(KEY, value, at=at)
    return store


def test_basic_statistics_and_percentiles_per_minute():
    store = store_with(*[(T0 + i, float(i + 1)) for i in range(100)])  # 1..60 in the first minute, 61..100 in the second
    assert store.series(KEY, "Sum", T0, T0 + 120, 60) == [(T0, sum(range(1, 61))), (T0 + 60, sum(range(61, 101)))]
    assert store.series(KEY, "SampleCount", T0, T0 + 120, 120) == [(T0, 100.0)]
    assert store.series(KEY, "Average", T0, T0 + 120, 120) == [(T0, 50.5)]
    assert store.series(KEY, "Minimum", T0, T0 + 120, 60)[1] == (T0 + 60, 61.0)
    assert store.series(KEY, "Maximum", T0, T0 + 120, 120) == [(T0, 100.0)]
    assert store.series(KEY, "p50", T0, T0 + 120, 120) == [(T0, 50.0)]
    assert store.series(KEY, "p99", T0, T0 + 120, 120) == [(T0, 99.0)]
    assert store.series(KEY, "p100", T0, T0 + 120, 120) == [(T0, 100.0)]


def test_periods_without_data_are_left_out_and_other_metrics_stay_apart():
    store = store_with((T0, 5.0), (T0 + 180, 7.0))
    store.put(MetricKey.of("AWS/Lambda", "Duration", {"FunctionName": "g"}), 100.0, at=T0)
    assert store.series(KEY, "Maximum", T0, T0 + 240, 60) == [(T0, 5.0), (T0 + 180, 7.0)]
    assert store.series(MetricKey.of("AWS/Lambda", "Duration", {"FunctionName": "nobody"}), "Sum", T0, T0 + 240, 60) == []


def test_statistic_sets_count_but_give_no_percentile():
    store = MetricStore(clock=lambda: T0)
    store.put_statistics(KEY, count=4, total=10, low=1, high=4, at=T0)
    assert store.series(KEY, "Average", T0, T0 + 60, 60) == [(T0, 2.5)]
    assert store.series(KEY, "p99", T0, T0 + 60, 60) == []


def test_a_gauge_has_one_datapoint_a_minute_the_latest_sample():
    store = MetricStore(clock=lambda: T0)
    for offset, depth in ((0, 3.0), (10, 5.0), (20, 0.0)):
        store.put_sample(KEY, depth, at=T0 + offset)
    store.put_sample(KEY, 2.0, at=T0 + 60)
    assert store.series(KEY, "Maximum", T0, T0 + 120, 60) == [(T0, 0.0), (T0 + 60, 2.0)]
    assert store.series(KEY, "SampleCount", T0, T0 + 120, 120) == [(T0, 2.0)]


def test_unknown_statistics_are_refused():
    with pytest.raises(UnknownStatistic):
        store_with().series(KEY, "Median", T0, T0 + 60, 60)
    assert compute("Sum", []) is None


def test_list_keys_filters_as_list_metrics_does():
    store = store_with((T0, 1.0))
    store.put(MetricKey.of("AWS/SQS", "NumberOfMessagesSent", {"QueueName": "q"}), 1, at=T0)
    assert store.keys(namespace="AWS/Lambda") == [KEY]
    assert store.keys(dimensions={"FunctionName": None}) == [KEY]
    assert store.keys(dimensions={"FunctionName": "other"}) == []


def test_old_buckets_are_dropped_after_the_retention():
    now = [T0]
    store = MetricStore(retention_s=600, clock=lambda: now[0])
    for minute in range(30):
        now[0] = T0 + minute * 60
        store.put(KEY, 1.0)
    assert store.series(KEY, "Sum", T0, T0 + 1800, 60)[0][0] >= T0 + 1800 - 660


def test_counts_weigh_values_in_percentiles_however_large():
    store = MetricStore(clock=lambda: T0)
    store.put(KEY, 100.0, at=T0, count=5000)
    store.put(KEY, 1.0, at=T0, count=1)
    stat = lambda name: store.series(KEY, name, T0, T0 + 60, 60)
    assert stat("p50") == [(T0, 100.0)] and stat("p99") == [(T0, 100.0)]
    assert stat("p0") == [(T0, 1.0)] and stat("SampleCount") == [(T0, 5001.0)]


def test_fractional_counts_weigh_values_in_percentiles_and_sums():
    store = MetricStore(clock=lambda: T0)
    for value, count in ((10.0, 0.5), (20.0, 0.5), (30.0, 1.0)):
        store.put(KEY, value, at=T0, count=count)
    stat = lambda name: store.series(KEY, name, T0, T0 + 60, 60)[0][1]
    assert (stat("p25"), stat("p50"), stat("p51"), stat("p100")) == (10.0, 20.0, 30.0, 30.0)
    assert (stat("SampleCount"), stat("Sum"), stat("Average")) == (2.0, 45.0, 22.5)


def test_values_with_no_positive_count_are_not_datapoints():
    store = MetricStore(clock=lambda: T0)
    store.put(KEY, 5.0, at=T0, count=0)
    store.put(KEY, 9.0, at=T0, count=-2)
    assert store.series(KEY, "SampleCount", T0, T0 + 60, 60) == []
    store.put(KEY, 7.0, at=T0)
    assert store.series(KEY, "Minimum", T0, T0 + 60, 60) == [(T0, 7.0)] and store.series(KEY, "Sum", T0, T0 + 60, 60) == [(T0, 7.0)]


def test_equal_values_share_one_entry_in_a_bucket():
    store = MetricStore(clock=lambda: T0)
    for _ in range(10_000):
        store.put(KEY, 1.0, at=T0)
    store.put(KEY, 0.0, at=T0)
    [bucket] = store._metrics[KEY].values()  # what a bucket holds: one (value, count) pair per distinct value
    assert bucket.counts == {1.0: 10_000.0, 0.0: 1.0}


def test_a_metric_that_stops_receiving_data_is_dropped_after_the_window():
    now = [T0]
    store = MetricStore(retention_s=600, clock=lambda: now[0])
    other = MetricKey.of("AWS/Lambda", "Duration", {"FunctionName": "g"})
    store.put(KEY, 1.0)
    store.put_statistics(other, count=2, total=3, low=1, high=2)
    now[0] = T0 + 540
    assert store.keys() == [KEY, other], "still within the window"
    now[0] = T0 + 660
    store.put_sample(MetricKey.of("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": "q"}), 0)
    [left] = store.keys()
    assert left.name == "ApproximateNumberOfMessagesVisible" and list(store._metrics) == [left], "the idle metrics are gone, not hidden"
    assert store.series(KEY, "SampleCount", T0 - 3600, T0 + 3600, 60) == []


def test_buckets_stay_within_the_window_on_a_long_run():
    now = [T0]
    store = MetricStore(retention_s=600, clock=lambda: now[0])
    for minute in range(24 * 60):
        now[0] = T0 + minute * 60 + 30
        store.put(KEY, float(minute))
        store.put_statistics(KEY, count=1, total=1, low=1, high=1)
    assert len(store._metrics[KEY]) <= 11
    store.put(KEY, 5.0, at=now[0] - 3600)
    assert store.series(KEY, "SampleCount", now[0] - 7200, now[0] - 3000, 60) == [], "older than the window: not kept"


def test_the_default_window_is_three_hours_of_minutes():
    now = [T0]
    store = MetricStore(clock=lambda: now[0])
    store.put(KEY, 1.0, at=T0)
    now[0] = T0 + 3 * 3600
    assert store.series(KEY, "Sum", T0, T0 + 60, 60) == [(T0, 1.0)]
    now[0] = T0 + 3 * 3600 + 60
    assert store.series(KEY, "Sum", T0, T0 + 60, 60) == []


def test_emf_lines_as_powertools_writes_them():
    line = json.dumps(
        {
            "_aws": {
                "Timestamp": 1_800_000_000_000,
                "CloudWatchMetrics": [
                    {"Namespace": "TechtestOrders", "Dimensions": [["service"]], "Metrics": [{"Name": "OrdersCreated", "Unit": "Count"}]}
                ],
            },
            "service": "techtest-orders",
            "OrdersCreated": [1.0, 2.0],
            "function_request_id": "r",
        }
    )
    [metric] = metrics_in(line)
    assert (metric.namespace, metric.name, metric.dimensions, metric.values) == (
        "TechtestOrders",
        "OrdersCreated",
        (("service", "techtest-orders"),),
        (1.0, 2.0),
    )
    assert metric.unit == "Count" and metric.timestamp_ms == 1_800_000_000_000


@pytest.mark.parametrize(
    "line",
    [
        "START RequestId: x",
        '{"level": "INFO", "message": "no metrics"}',
        '{"_aws": "broken"',
        '{"_aws": {"CloudWatchMetrics": 3}}',
        json.dumps({"_aws": {"CloudWatchMetrics": [{"Namespace": "N", "Dimensions": [["service"]], "Metrics": [{"Name": "M"}]}]}, "M": 1}),
        json.dumps({"_aws": {"CloudWatchMetrics": [{"Namespace": "N", "Metrics": [{"Name": "M"}]}]}, "M": "one"}),
    ],
)
def test_lines_that_are_not_valid_emf_carry_no_metric(line):
    assert metrics_in(line) == []


def rule(**changes) -> AlarmRule:
    settings = {
        "name": "a",
        "statistic": "Maximum",
        "period_s": 60,
        "evaluation_periods": 1,
        "datapoints_to_alarm": 1,
        "threshold": 1.0,
        "comparison": "GreaterThanOrEqualToThreshold",
        "treat_missing": "notBreaching",
    }
    return AlarmRule(**{**settings, **changes})


def test_a_breaching_datapoint_alarms_with_awss_reason():
    verdict = evaluate(rule(), {T0: 3.0}, T0 + 30, "OK")
    assert verdict.state == "ALARM"
    assert verdict.reason == (
        "Threshold Crossed: 1 out of the last 1 datapoints [3.0 (15/01/27 08:00:00)] was greater than or "
        "equal to the threshold (1.0) (minimum 1 datapoint for OK -> ALARM transition)."
    )
    assert verdict.reason_data["recentDatapoints"] == [3.0] and verdict.reason_data["period"] == 60


def test_a_period_that_has_only_begun_waits_for_its_data():
    """Failures at the end of one minute still count at an evaluation early in the next."""
    assert evaluate(rule(), {T0: 3.0}, T0 + 65, "OK").state == "ALARM"
    assert evaluate(rule(), {T0: 3.0, T0 + 60: 0.0}, T0 + 65, "ALARM").state == "OK"
    assert evaluate(rule(), {T0: 3.0}, T0 + 125, "ALARM").state == "OK", "a whole period without data"


def test_missing_data_is_treated_as_configured():
    assert evaluate(rule(), {}, T0, "ALARM").state == "OK"
    assert evaluate(rule(treat_missing="breaching"), {}, T0, "OK").state == "ALARM"
    assert evaluate(rule(treat_missing="missing"), {}, T0, "OK").state == "INSUFFICIENT_DATA"
    assert evaluate(rule(treat_missing="ignore"), {}, T0, "ALARM") is None
    assert "no datapoints were received for 1 period" in evaluate(rule(), {}, T0, "ALARM").reason


def test_m_out_of_n_and_each_comparison():
    three = rule(evaluation_periods=3, datapoints_to_alarm=2, threshold=10, comparison="GreaterThanThreshold")
    assert evaluate(three, {T0 - 120: 11, T0 - 60: 5, T0: 12}, T0 + 1, "OK").state == "ALARM"
    assert evaluate(three, {T0 - 120: 11, T0 - 60: 5, T0: 10}, T0 + 1, "OK").state == "OK"
    assert evaluate(rule(comparison="LessThanThreshold", threshold=5), {T0: 4}, T0, "OK").state == "ALARM"
    assert evaluate(rule(comparison="LessThanOrEqualToThreshold", threshold=5), {T0: 5}, T0, "OK").state == "ALARM"
    with pytest.raises(Unsupported):
        rule(comparison="LessThanLowerOrGreaterThanUpperThreshold")


def fake_alarm(**changes):
    settings = {
        "name": "dlq",
        "namespace": "AWS/SQS",
        "metric_name": "ApproximateNumberOfMessagesVisible",
        "dimensions": [SimpleNamespace(name="QueueName", value="dlq")],
        "statistic": "Maximum",
        "extended_statistic": None,
        "period": 60,
        "evaluation_periods": 1,
        "datapoints_to_alarm": None,
        "threshold": 1.0,
        "comparison_operator": "GreaterThanOrEqualToThreshold",
        "treat_missing_data": "notBreaching",
        "state_value": "INSUFFICIENT_DATA",
        "actions_enabled": True,
        "alarm_actions": ["arn:aws:sns:us-east-1:1:ops"],
        "ok_actions": ["arn:aws:sns:us-east-1:1:ops"],
        "insufficient_data_actions": [],
        "description": "DLQ has messages",
        "alarm_arn": "arn:aws:cloudwatch:us-east-1:1:alarm:dlq",
        "unit": None,
        "metric_data_queries": [],
        "evaluate_low_sample_count_percentile": None,
        "configuration_updated_timestamp": __import__("datetime").datetime(2027, 1, 15),
    }
    alarm = SimpleNamespace(**{**settings, **changes})
    alarm.update_state = lambda reason, data, state: setattr(alarm, "state_value", state)
    return alarm


def test_the_runner_changes_state_keeps_history_and_publishes_awss_message():
    now = [T0 + 10]
    sent = []
    alarm = fake_alarm()
    depth = [("dlq", 2)]
    cw = SandboxCloudWatch(
        "123456789012", "us-east-1", publish=lambda *m: sent.append(m), alarms=lambda: [alarm], queues=lambda: depth, clock=lambda: now[0]
    )
    cw.tick()
    assert alarm.state_value == "ALARM"
    topic, subject, message = sent[-1]
    assert topic == "arn:aws:sns:us-east-1:1:ops" and subject == 'ALARM: "dlq" in US East (N. Virginia)'
    body = json.loads(message)
    assert body["NewStateValue"] == "ALARM" and body["OldStateValue"] == "INSUFFICIENT_DATA"
    assert body["Trigger"]["MetricName"] == "ApproximateNumberOfMessagesVisible" and body["Trigger"]["Statistic"] == "MAXIMUM"
    assert body["Trigger"]["Dimensions"] == [{"value": "dlq", "name": "QueueName"}] and body["AWSAccountId"] == "123456789012"
    now[0], depth[0] = T0 + 70, ("dlq", 0)
    cw.tick()
    assert alarm.state_value == "OK" and json.loads(sent[-1][2])["NewStateValue"] == "OK"
    history = cw.alarm_history("dlq")
    assert [h["HistorySummary"] for h in history] == ["Alarm updated from ALARM to OK", "Alarm updated from INSUFFICIENT_DATA to ALARM"]
    cw.tick()
    assert len(sent) == 2, "no change, no message"


def test_metric_math_alarms_are_reported_and_left_alone():
    with pytest.raises(Unsupported):
        rule_of(fake_alarm(metric_data_queries=[{"Id": "m"}], metric_name=None))
    alarm = fake_alarm(metric_data_queries=[{"Id": "m"}], metric_name=None)
    SandboxCloudWatch("1", "us-east-1", alarms=lambda: [alarm], clock=lambda: T0).evaluate_alarms()
    assert alarm.state_value == "INSUFFICIENT_DATA"


def test_invocations_errors_duration_and_emf_land_in_the_store():
    cw = SandboxCloudWatch("1", "us-east-1", clock=lambda: T0 + 5)
    cw.invocation("f", 12.5, error=False)
    cw.invocation("f", 30.0, error=True)
    cw.throttle("f")
    line = json.dumps({"_aws": {"CloudWatchMetrics": [{"Namespace": "N", "Dimensions": [[]], "Metrics": [{"Name": "M"}]}]}, "M": 4})
    assert cw.log_lines(["START", line]) == 1
    series = lambda key, stat: cw.store.series(key, stat, T0, T0 + 60, 60)
    assert series(lambda_key("f", "Invocations"), "Sum") == [(T0, 2.0)]
    assert series(lambda_key("f", "Errors"), "Sum") == [(T0, 1.0)]
    assert series(lambda_key("f", "Duration"), "Maximum") == [(T0, 30.0)]
    assert series(lambda_key("f", "Throttles"), "Sum") == [(T0, 1.0)]
    assert series(MetricKey.of("N", "M"), "Sum") == [(T0, 4.0)]


# -- high resolution ------------------------------------------------------------------------

HIRES = MetricKey.of("TechtestOrders", "OrdersProcessed", {"service": "s"})


def hires_store(*points: tuple[float, float], now: float = T0 + 3600) -> MetricStore:
    store = MetricStore(clock=lambda: now)
    for at, value in points:
        store.put(HIRES, value, at=at, high_resolution=True)
    return store


def test_high_resolution_data_is_read_at_1_5_10_20_and_30_second_periods():
    store = hires_store(*[(T0 + second + 0.5, float(second)) for second in range(60)])  # 0..59, one a second
    assert store.series(HIRES, "Sum", T0, T0 + 3, 1) == [(T0, 0.0), (T0 + 1, 1.0), (T0 + 2, 2.0)]
    assert store.series(HIRES, "Maximum", T0, T0 + 15, 5) == [(T0, 4.0), (T0 + 5, 9.0), (T0 + 10, 14.0)]
    assert store.series(HIRES, "Sum", T0, T0 + 60, 10) == [(T0 + 10 * n, float(sum(range(10 * n, 10 * n + 10)))) for n in range(6)]
    assert store.series(HIRES, "SampleCount", T0, T0 + 60, 20) == [(T0, 20.0), (T0 + 20, 20.0), (T0 + 40, 20.0)]
    assert store.series(HIRES, "p50", T0, T0 + 60, 30) == [(T0, 14.0), (T0 + 30, 44.0)]
    assert store.series(HIRES, "Sum", T0, T0 + 60, 60) == [(T0, float(sum(range(60))))], "the same data by the minute"


def test_sub_minute_periods_align_on_the_divisions_of_the_minute_and_skip_empty_ones():
    store = hires_store((T0 + 12, 1.0), (T0 + 47, 2.0))
    assert store.series(HIRES, "Sum", T0 + 3, T0 + 60, 10) == [(T0 + 10, 1.0), (T0 + 40, 2.0)]


def test_standard_data_asked_at_ten_seconds_answers_once_a_minute_at_the_minute():
    """Standard resolution keeps minutes only: the period that starts the minute has its datapoint,
    the others of the minute have none (PutMetricAlarm's note on 10 and 30 s periods)."""
    store = store_with((T0 + 5, 1.0), (T0 + 35, 2.0), (T0 + 65, 4.0))
    assert store.series(KEY, "Sum", T0, T0 + 120, 10) == [(T0, 3.0), (T0 + 60, 4.0)]
    assert store.series(KEY, "Sum", T0 + 30, T0 + 120, 30) == [(T0 + 60, 4.0)], "the minute began before the range"


@pytest.mark.parametrize("period", [0, 2, 7, 15, 45, 59, 61, 90, 150])
def test_a_period_cloudwatch_does_not_take_is_refused(period):
    with pytest.raises(InvalidPeriod, match="1, 5, 10, 20, 30 or a multiple of 60"):
        hires_store((T0, 1.0)).series(HIRES, "Sum", T0, T0 + 600, period)


def test_one_second_data_is_kept_three_hours_and_its_minutes_as_long_as_the_window():
    now = [T0]
    store = MetricStore(retention_s=6 * 3600, clock=lambda: now[0])
    store.put(HIRES, 5.0, at=T0 + 7, high_resolution=True)
    now[0] = T0 + 3 * 3600
    assert store.series(HIRES, "Sum", T0, T0 + 60, 1) == [(T0 + 7, 5.0)], "still within 3 hours"
    now[0] = T0 + 3 * 3600 + 120
    assert store.series(HIRES, "Sum", T0, T0 + 60, 1) == [], "1-second data is gone after 3 hours"
    assert HIRES not in store._seconds, "its buckets too, not just hidden"
    assert store.series(HIRES, "Sum", T0, T0 + 60, 60) == [(T0, 5.0)], "the minute stays for the window"
    store.put(HIRES, 1.0, at=T0 + 8, high_resolution=True)
    assert HIRES not in store._seconds and store.series(HIRES, "Sum", T0, T0 + 60, 60) == [(T0, 6.0)], "too old for a second"


def test_only_high_resolution_metrics_have_second_buckets():
    store = store_with(*[(T0 + s, 1.0) for s in range(120)])
    store.put_statistics(HIRES, count=2, total=3, low=1, high=2, at=T0 + 1, high_resolution=True)
    assert set(store._seconds) == {HIRES} and len(store._metrics[KEY]) == 2
    assert store.series(HIRES, "Average", T0, T0 + 10, 5) == [(T0, 1.5)]


def test_a_snapshot_of_a_store_keeps_its_seconds_and_one_taken_before_them_loads():
    store = hires_store((T0 + 3, 2.0))
    state = pickle.loads(pickle.dumps(store.export()))
    restored = MetricStore(clock=lambda: T0 + 3600)
    restored.load(state)
    assert restored.series(HIRES, "Sum", T0, T0 + 10, 1) == [(T0 + 3, 2.0)]
    older = MetricStore(clock=lambda: T0 + 3600)
    older.load({"metrics": state["metrics"], "trimmed_below": state["trimmed_below"]})  # a snapshot from before high resolution
    assert older.series(HIRES, "Sum", T0, T0 + 60, 60) == [(T0, 2.0)]
    assert older.series(HIRES, "Sum", T0, T0 + 10, 1) == [(T0, 2.0)], "its minutes only: read as standard resolution"


def test_emf_storage_resolution_one_is_high_resolution_and_anything_else_standard():
    def line(**definition):
        directive = {"Namespace": "N", "Dimensions": [[]], "Metrics": [{"Name": "M", **definition}]}
        return json.dumps({"_aws": {"Timestamp": 1_800_000_000_000, "CloudWatchMetrics": [directive]}, "M": 1})

    [high] = metrics_in(line(Unit="Count", StorageResolution=1))
    assert high.high_resolution and high.storage_resolution == 1
    assert [m.high_resolution for m in (*metrics_in(line()), *metrics_in(line(StorageResolution=60)))] == [False, False]
    cw = SandboxCloudWatch("1", "us-east-1", clock=lambda: T0 + 5)
    cw.log_lines([line(StorageResolution=1), line()])
    assert cw.store.series(MetricKey.of("N", "M"), "SampleCount", T0 - 60, T0 + 60, 10) == [(1_800_000_000.0, 1.0)]


def test_a_ten_second_alarm_on_high_resolution_data_fires_within_the_minute():
    store = MetricStore(clock=lambda: T0 + 25)
    alarm = fake_alarm(
        name="failed", namespace="N", metric_name="M", dimensions=[], statistic="Sum", period=10, treat_missing_data="notBreaching"
    )
    cw = SandboxCloudWatch("1", "us-east-1", store=store, alarms=lambda: [alarm], clock=lambda: T0 + 25)
    store.put(MetricKey.of("N", "M"), 0.0, at=T0 + 2, high_resolution=True)
    store.put(MetricKey.of("N", "M"), 1.0, at=T0 + 14, high_resolution=True)
    assert cw.evaluate_alarms() == [("failed", "ALARM")], "the 10-second period [T0+10, T0+20) summed to 1"
    assert "[1.0 (15/01/27 08:00:10)]" in cw.alarm_history("failed")[0]["HistoryData"]


def test_an_alarm_period_cloudwatch_refuses_is_not_evaluated():
    with pytest.raises(Unsupported, match="period 45"):
        rule_of(fake_alarm(period=45))


# -- the wire: PutMetricData, GetMetricData and GetMetricStatistics on moto, in process --------


@pytest.fixture
def cloudwatch():
    from orders_lib.sandbox.cloudwatch import moto_patches

    with mock_aws():
        moto_patches.install(SandboxCloudWatch("123456789012", "us-east-1"))
        try:
            yield boto3.client("cloudwatch", region_name="us-east-1")
        finally:
            moto_patches.uninstall()


def test_put_metric_data_storage_resolution_one_is_readable_at_ten_seconds(cloudwatch):
    now = datetime.now(UTC).replace(microsecond=0)
    minute = now.replace(second=0) - timedelta(minutes=1)
    for second, value in ((1, 1.0), (12, 2.0), (13, 3.0)):
        for name, resolution in (("Fine", 1), ("Coarse", 60)):
            datum = {"MetricName": name, "Value": value, "Timestamp": minute + timedelta(seconds=second), "StorageResolution": resolution}
            cloudwatch.put_metric_data(Namespace="Test", MetricData=[datum])

    def read(name, period):
        query = {"Id": "q", "MetricStat": {"Metric": {"Namespace": "Test", "MetricName": name}, "Period": period, "Stat": "Sum"}}
        [result] = cloudwatch.get_metric_data(
            MetricDataQueries=[query], StartTime=minute, EndTime=minute + timedelta(minutes=1), ScanBy="TimestampAscending"
        )["MetricDataResults"]
        return [(int((t - minute).total_seconds()), v) for t, v in zip(result["Timestamps"], result["Values"], strict=True)]

    assert read("Fine", 10) == [(0, 1.0), (10, 5.0)]
    assert read("Coarse", 10) == [(0, 6.0)], "standard resolution: once a minute"
    assert read("Fine", 60) == read("Coarse", 60) == [(0, 6.0)]
    points = cloudwatch.get_metric_statistics(
        Namespace="Test", MetricName="Fine", StartTime=minute, EndTime=minute + timedelta(minutes=1), Period=5, Statistics=["Maximum"]
    )["Datapoints"]
    assert sorted((int((p["Timestamp"] - minute).total_seconds()), p["Maximum"]) for p in points) == [(0, 1.0), (10, 3.0)]


def test_an_invalid_period_is_refused_with_cloudwatchs_error_codes(cloudwatch):
    now = datetime.now(UTC)
    with pytest.raises(ClientError) as statistics:
        cloudwatch.get_metric_statistics(
            Namespace="Test", MetricName="M", StartTime=now - timedelta(minutes=5), EndTime=now, Period=7, Statistics=["Sum"]
        )
    assert statistics.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert statistics.value.response["Error"]["Message"] == "The parameter Period must be 1, 5, 10, 20, 30 or a multiple of 60."
    query = {"Id": "q", "MetricStat": {"Metric": {"Namespace": "Test", "MetricName": "M"}, "Period": 7, "Stat": "Sum"}}
    with pytest.raises(ClientError) as data:
        cloudwatch.get_metric_data(MetricDataQueries=[query], StartTime=now - timedelta(minutes=5), EndTime=now)
    assert data.value.response["Error"]["Code"] == "ValidationError"
    assert "MetricDataQueries.member.1.MetricStat.Period must be 1, 5, 10, 20, 30 or a multiple of 60" in str(data.value)


def test_get_metric_statistics_refuses_more_than_1440_datapoints(cloudwatch):
    now = datetime.now(UTC)
    with pytest.raises(ClientError) as error:
        cloudwatch.get_metric_statistics(
            Namespace="Test", MetricName="M", StartTime=now - timedelta(minutes=30), EndTime=now, Period=1, Statistics=["Sum"]
        )
    assert error.value.response["Error"]["Code"] == "InvalidParameterCombination"
    assert "You have requested up to 1800 datapoints, which exceeds the limit of 1440." in str(error.value)

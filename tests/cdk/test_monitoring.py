"""Alarms, the operations topic and the dashboard, as synthesized."""

from __future__ import annotations

import json

import pytest

from .conftest import resources

ALARMS = {
    # name: (namespace, metric, statistic, threshold)
    "techtest-orders-dlq-not-empty": ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", 1),
    "techtest-orders-process-errors": ("AWS/Lambda", "Errors", "Sum", 1),
    "techtest-orders-stream-lag": ("AWS/Lambda", "IteratorAge", "Maximum", 60_000),
    "techtest-orders-create-errors": ("AWS/Lambda", "Errors", "Sum", 1),
    "techtest-orders-create-throttles": ("AWS/Lambda", "Throttles", "Sum", 1),
    "techtest-orders-notifications-failed": ("TechtestOrders", "NotificationsFailed", "Sum", 1),
}


@pytest.fixture(scope="module")
def raw(default_stack):
    return default_stack[1]


def alarms_topic(raw):
    (topic_id,) = [k for k, v in resources(raw, "AWS::SNS::Topic").items() if v["Properties"]["TopicName"] == "techtest-orders-alarms"]
    return topic_id


def test_every_failure_has_an_alarm_over_one_minute(raw):
    found = {a["Properties"]["AlarmName"]: a["Properties"] for a in resources(raw, "AWS::CloudWatch::Alarm").values()}
    assert set(found) == set(ALARMS)
    for name, (namespace, metric, statistic, threshold) in ALARMS.items():
        props = found[name]
        assert (props["Namespace"], props["MetricName"], props["Statistic"], props["Threshold"]) == (
            namespace,
            metric,
            statistic,
            threshold,
        )
        assert props["Period"] == 60 and props["EvaluationPeriods"] == 1
        assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert props["TreatMissingData"] == "notBreaching", "no traffic is not a failure"
        assert props["AlarmDescription"]


def test_alarms_watch_the_right_resources(raw):
    found = {a["Properties"]["AlarmName"]: a["Properties"] for a in resources(raw, "AWS::CloudWatch::Alarm").values()}
    functions = {k: v["Properties"]["FunctionName"] for k, v in resources(raw, "AWS::Lambda::Function").items()}
    (queue_id,) = resources(raw, "AWS::SQS::Queue")

    def dimension(name):
        return {d["Name"]: d["Value"] for d in found[name]["Dimensions"]}

    assert functions[dimension("techtest-orders-process-errors")["FunctionName"]["Ref"]] == "techtest-process-order"
    assert functions[dimension("techtest-orders-stream-lag")["FunctionName"]["Ref"]] == "techtest-process-order"
    assert functions[dimension("techtest-orders-create-throttles")["FunctionName"]["Ref"]] == "techtest-create-order"
    assert dimension("techtest-orders-dlq-not-empty")["QueueName"] == {"Fn::GetAtt": [queue_id, "QueueName"]}
    assert dimension("techtest-orders-notifications-failed") == {"service": "techtest-orders"}


def test_alarms_notify_the_encrypted_operations_topic_on_alarm_and_on_ok(raw):
    topic_id = alarms_topic(raw)
    topic = raw["Resources"][topic_id]["Properties"]
    (key_id,) = resources(raw, "AWS::KMS::Key")
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    for alarm in resources(raw, "AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
        assert alarm["Properties"]["OKActions"] == [{"Ref": topic_id}]


def test_outputs_name_the_topic_the_alarms_and_the_dashboard(raw):
    outputs = raw["Outputs"]
    assert outputs["AlarmsTopicArn"]["Value"] == {"Ref": alarms_topic(raw)}
    assert set(outputs["AlarmNames"]["Value"].split(",")) == set(ALARMS)
    assert outputs["DashboardName"]["Value"] == "techtest-orders"


def test_dashboard_shows_the_alarms_and_the_same_metrics(raw):
    (dashboard,) = resources(raw, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in (
        "Invocations",
        "Errors",
        "Throttles",
        "Duration",
        "IteratorAge",
        "ApproximateNumberOfMessagesVisible",
        "OrdersCreated",
        "OrdersProcessed",
        "NotificationsPublished",
        "NotificationsFailed",
    ):
        assert metric in body, metric
    assert "p99" in body and "alarm" in body

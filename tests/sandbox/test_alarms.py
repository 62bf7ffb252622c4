"""CloudWatch on a sandbox with the stack deployed: the stack's alarms listed by the AWS CLI, the
metrics AWS and the functions publish, and the DLQ alarm firing on a poison record (its alert
arriving on a queue subscribed to the operations topic) and clearing after a purge."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from sandbox_testing import Aws, wait_for

ORDER = {
    "customer": {"customerId": "C-9", "name": "Ada", "email": "ada@example.com"},
    "items": [{"sku": "NB-A5", "name": "Notebook A5", "quantity": 1, "unitPrice": "4.50"}],
    "currency": "EUR",
}


@pytest.fixture(scope="module")
def ops_sandbox(start_sandbox):
    return start_sandbox("sandbox-alarms")


@pytest.fixture(scope="module")
def ops_aws(ops_sandbox):
    return Aws(ops_sandbox.endpoint)


def alarm_states(aws):
    return {a["AlarmName"]: a for a in aws("cloudwatch").describe_alarms()["MetricAlarms"]}


def statistic(aws, namespace, metric, dimensions, stat):
    now = datetime.now(UTC)
    extended = stat.startswith("p")
    points = aws("cloudwatch").get_metric_statistics(
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=1),
        Period=600,
        **({"ExtendedStatistics": [stat]} if extended else {"Statistics": [stat]}),
    )["Datapoints"]
    return [p["ExtendedStatistics"][stat] if extended else p[stat] for p in points]


def test_the_aws_cli_lists_the_stacks_alarms(ops_sandbox):
    result = subprocess.run(
        ["aws", "--endpoint-url", ops_sandbox.endpoint, "cloudwatch", "describe-alarms", "--output", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1"},
    )
    assert result.returncode == 0, result.stderr
    names = {a["AlarmName"] for a in json.loads(result.stdout)["MetricAlarms"]}
    assert names == set(ops_sandbox.outputs["AlarmNames"].split(","))


def test_lambda_sqs_and_pipeline_metrics_are_recorded(ops_sandbox, ops_aws):
    outputs = ops_sandbox.outputs
    for _n in range(3):
        request = {**ORDER, "idempotencyKey": f"metrics-{uuid.uuid4()}"}
        response = ops_aws("lambda").invoke(FunctionName=outputs["CreateOrderFunctionName"], Payload=json.dumps(request).encode())
        assert json.loads(response["Payload"].read())["statusCode"] == 201
    create = {"FunctionName": outputs["CreateOrderFunctionName"]}
    process = {"FunctionName": outputs["ProcessOrderFunctionName"]}
    service = {"service": "techtest-orders"}
    wait_for(lambda: sum(statistic(ops_aws, "TechtestOrders", "NotificationsPublished", service, "Sum")) >= 3, message="3 notifications")
    assert sum(statistic(ops_aws, "AWS/Lambda", "Invocations", create, "Sum")) >= 3
    assert sum(statistic(ops_aws, "AWS/Lambda", "Errors", create, "Sum")) == 0
    assert 0 < statistic(ops_aws, "AWS/Lambda", "Duration", create, "p99")[0] < 30_000
    assert statistic(ops_aws, "AWS/Lambda", "ConcurrentExecutions", create, "Maximum")[0] >= 1
    assert 0 <= statistic(ops_aws, "AWS/Lambda", "IteratorAge", process, "Maximum")[0] < 60_000
    assert sum(statistic(ops_aws, "TechtestOrders", "OrdersCreated", service, "Sum")) >= 3
    assert sum(statistic(ops_aws, "TechtestOrders", "OrdersProcessed", service, "Sum")) >= 3
    assert sum(statistic(ops_aws, "AWS/SQS", "NumberOfMessagesSent", {"QueueName": outputs["DlqName"]}, "Sum")) == 0
    listed = ops_aws("cloudwatch").list_metrics(Namespace="TechtestOrders")["Metrics"]
    assert {m["MetricName"] for m in listed} >= {"OrdersCreated", "OrdersProcessed", "NotificationsPublished"}


def metric_data(aws, namespace, metric, dimensions, stat, period, minutes=10):
    """(timestamp, value) of one GetMetricData series over the last ``minutes``, oldest first."""
    now = datetime.now(UTC)
    query = {
        "Id": "m",
        "MetricStat": {
            "Metric": {
                "Namespace": namespace,
                "MetricName": metric,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
            },
            "Period": period,
            "Stat": stat,
        },
    }
    [result] = aws("cloudwatch").get_metric_data(
        MetricDataQueries=[query],
        StartTime=now - timedelta(minutes=minutes),
        EndTime=now + timedelta(minutes=1),
        ScanBy="TimestampAscending",
    )["MetricDataResults"]
    return list(zip(result["Timestamps"], result["Values"], strict=True))


def test_process_order_metrics_read_at_ten_second_periods_as_its_log_lines_say(ops_sandbox, ops_aws):
    """ProcessOrder's EMF lines carry StorageResolution 1: GetMetricData at 10 s gives each
    10-second period the sum of the lines timestamped in it; AWS/Lambda's metrics stay by the minute."""
    outputs = ops_sandbox.outputs
    service, process = {"service": "techtest-orders"}, {"FunctionName": outputs["ProcessOrderFunctionName"]}
    before = sum(v for _, v in metric_data(ops_aws, "TechtestOrders", "OrdersProcessed", service, "Sum", 60))
    for _n in range(3):
        request = {**ORDER, "idempotencyKey": f"hires-{uuid.uuid4()}"}
        ops_aws("lambda").invoke(FunctionName=outputs["CreateOrderFunctionName"], Payload=json.dumps(request).encode())
    wait_for(
        lambda: sum(v for _, v in metric_data(ops_aws, "TechtestOrders", "OrdersProcessed", service, "Sum", 60)) >= before + 3,
        timeout=60,
        message="3 more orders processed",
    )
    fine = metric_data(ops_aws, "TechtestOrders", "OrdersProcessed", service, "Sum", 10, minutes=30)
    assert fine and all(at.second % 10 == 0 for at, _ in fine)
    assert sum(v for _, v in fine) == sum(v for _, v in metric_data(ops_aws, "TechtestOrders", "OrdersProcessed", service, "Sum", 60, 30))

    expected: dict[int, float] = {}  # 10-second period -> the OrdersProcessed its EMF lines carry
    pages = (
        ops_aws("logs")
        .get_paginator("filter_log_events")
        .paginate(
            logGroupName=f"/aws/lambda/{outputs['ProcessOrderFunctionName']}",
            startTime=int((datetime.now(UTC) - timedelta(minutes=30)).timestamp() * 1000),
        )
    )
    for event in (e for page in pages for e in page["events"]):
        line = json.loads(event["message"]) if event["message"].startswith("{") and '"_aws"' in event["message"] else {}
        if "OrdersProcessed" in line:
            period = line["_aws"]["Timestamp"] // 10_000 * 10
            values = line["OrdersProcessed"] if isinstance(line["OrdersProcessed"], list) else [line["OrdersProcessed"]]
            expected[period] = expected.get(period, 0.0) + sum(values)
    assert {int(at.timestamp()): v for at, v in fine} == expected

    invocations = metric_data(ops_aws, "AWS/Lambda", "Invocations", process, "Sum", 10)
    assert invocations and all(at.second == 0 for at, _ in invocations), "standard resolution: once a minute, at the minute"


def test_put_metric_data_counts_weigh_percentiles_large_or_fractional(ops_aws):
    namespace = f"Test/{uuid.uuid4().hex[:8]}"
    ops_aws("cloudwatch").put_metric_data(
        Namespace=namespace,
        MetricData=[
            {"MetricName": "Large", "Values": [100.0, 1.0], "Counts": [5000.0, 1.0]},
            {"MetricName": "Fractional", "Values": [10.0, 20.0, 30.0], "Counts": [0.5, 0.5, 1.0]},
        ],
    )
    assert statistic(ops_aws, namespace, "Large", {}, "p50") == [100.0]
    assert statistic(ops_aws, namespace, "Large", {}, "SampleCount") == [5001.0]
    assert [statistic(ops_aws, namespace, "Fractional", {}, p)[0] for p in ("p25", "p50", "p99")] == [10.0, 20.0, 30.0]
    assert statistic(ops_aws, namespace, "Fractional", {}, "Sum") == [45.0]


def test_a_poison_record_fires_the_dlq_alarm_and_a_purge_clears_it(ops_sandbox, ops_aws):
    outputs = ops_sandbox.outputs
    sqs = ops_aws("sqs")
    inbox = sqs.create_queue(QueueName="operations-inbox")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    ops_aws("sns").subscribe(TopicArn=outputs["AlarmsTopicArn"], Protocol="sqs", Endpoint=inbox_arn)
    dlq_alarm = "techtest-orders-dlq-not-empty"
    ops_aws("dynamodb").put_item(TableName=outputs["TableName"], Item={"orderId": {"S": "poison-alarm"}, "status": {"S": "NEW"}})

    alarm = wait_for(
        lambda: (a := alarm_states(ops_aws)[dlq_alarm])["StateValue"] == "ALARM" and a, timeout=120, message="the DLQ alarm in ALARM"
    )
    assert alarm["StateReason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints [")
    assert "was greater than or equal to the threshold (1.0)" in alarm["StateReason"]

    def alerts():
        messages = sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10).get("Messages", [])
        for message in messages:
            sqs.delete_message(QueueUrl=inbox, ReceiptHandle=message["ReceiptHandle"])
        return [json.loads(m["Body"]) for m in messages]

    received = []
    wait_for(
        lambda: received.extend(alerts()) or any(json.loads(r["Message"])["NewStateValue"] == "ALARM" for r in received),
        timeout=30,
        message="the ALARM alert on the operations topic",
    )
    alert = next(r for r in received if json.loads(r["Message"])["NewStateValue"] == "ALARM" and dlq_alarm in r["Subject"])
    assert alert["Subject"] == f'ALARM: "{dlq_alarm}" in US East (N. Virginia)'
    body = json.loads(alert["Message"])
    assert body["AlarmName"] == dlq_alarm and body["Trigger"]["Namespace"] == "AWS/SQS"
    assert body["Trigger"]["Dimensions"] == [{"value": outputs["DlqName"], "name": "QueueName"}]

    sqs.purge_queue(QueueUrl=sqs.get_queue_url(QueueName=outputs["DlqName"])["QueueUrl"])
    wait_for(lambda: alarm_states(ops_aws)[dlq_alarm]["StateValue"] == "OK", timeout=150, message="the DLQ alarm back to OK")
    history = ops_aws("cloudwatch").describe_alarm_history(AlarmName=dlq_alarm, HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    summaries = [h["HistorySummary"] for h in history]
    assert summaries[0] == "Alarm updated from ALARM to OK" and summaries[1].endswith(" to ALARM")
    wait_for(
        lambda: (
            received.extend(alerts())
            or any(json.loads(r["Message"])["NewStateValue"] == "OK" and dlq_alarm in r["Subject"] for r in received)
        ),
        timeout=30,
        message="the OK alert",
    )


def test_the_alarms_and_metrics_commands(ops_sandbox, capsys):
    from orders_lib.aws import clients
    from orders_lib.cli import main

    clients.reset()
    code = main(["--endpoint", ops_sandbox.endpoint, "alarms"])
    out = capsys.readouterr().out
    assert code in (0, 1) and "techtest-orders-dlq-not-empty" in out and "state" in out.splitlines()[0]
    assert ("in ALARM:" in out) == (code == 1) and ("alarms quiet" in out) == (code == 0)
    code = main(["--endpoint", ops_sandbox.endpoint, "metrics", "--minutes", "10", "--only", "create", "dlq"])
    out = capsys.readouterr().out
    header = out.splitlines()[0].split()
    assert code == 0 and header[0] == "time" and "create_invocations" in header and "dlq_visible" in header
    assert "process_invocations" not in header

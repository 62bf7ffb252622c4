"""The sandbox keeps its state across a stop and a start: one test per service, each failing if
that service's state did not come back. One sandbox is populated, stopped, started again (the
stack is not deployed again) and then read."""

from __future__ import annotations

import base64
import json
import random
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from orders_lib.ops.orders import invoke_create, random_request
from orders_lib.sandbox import control
from sandbox_testing import Aws, wait_for

ACCOUNT = "123456789012"


def _status(aws, table, order_id):
    item = aws("dynamodb").get_item(TableName=table, Key={"orderId": {"S": order_id}}, ConsistentRead=True).get("Item")
    return item and item["status"]["S"], item


def _notifications(aws, queue_url):
    """Every notification waiting in the subscriber queue, by order id (received and deleted)."""
    seen: list[str] = []
    while True:
        messages = aws("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if not messages:
            return seen
        for message in messages:
            seen.append(json.loads(json.loads(message["Body"])["Message"])["orderId"])
            aws("sqs").delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def _populate(aws, outputs, endpoint):
    """A little of everything; returns what the restarted sandbox must show."""
    table, topic = outputs["TableName"], outputs["TopicArn"]
    subscriber = aws("sqs").create_queue(QueueName="persistence-subscriber")["QueueUrl"]
    subscriber_arn = aws("sqs").get_queue_attributes(QueueUrl=subscriber, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subscription = aws("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=subscriber_arn)["SubscriptionArn"]
    order_id = invoke_create(aws("lambda"), outputs["CreateOrderFunctionName"], random_request(random.Random(7))).order["orderId"]
    wait_for(lambda: (_status(aws, table, order_id)[1] or {}).get("notifiedAt"), timeout=30, message="the order notified")
    assert wait_for(lambda: _notifications(aws, subscriber), timeout=10, message="its notification") == [order_id]

    work = aws("sqs").create_queue(QueueName="persistence-work")["QueueUrl"]
    aws("sqs").send_message(QueueUrl=work, MessageBody="waiting")
    aws("sqs").send_message(QueueUrl=work, MessageBody="in flight")
    received = aws("sqs").receive_message(QueueUrl=work, MaxNumberOfMessages=10, VisibilityTimeout=600, AttributeNames=["All"])
    in_flight = [m for m in received["Messages"] if m["Body"] == "in flight"]
    for message in received["Messages"]:
        if message["Body"] != "in flight":
            aws("sqs").change_message_visibility(QueueUrl=work, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    aws("sqs").send_message(QueueUrl=outputs["DlqUrl"], MessageBody=json.dumps({"kept": "in the DLQ"}))

    ciphertext = aws("kms").encrypt(KeyId="alias/techtest-orders", Plaintext=b"old secret")["CiphertextBlob"]
    aws("cloudwatch").put_metric_data(Namespace="Persistence", MetricData=[{"MetricName": "Kept", "Value": 42.0, "Unit": "Count"}])
    fine_at = datetime.now(UTC).replace(second=25, microsecond=0) - timedelta(minutes=2)  # 25 s into a minute
    fine = {"MetricName": "KeptFine", "Value": 7.0, "Timestamp": fine_at, "StorageResolution": 1}
    aws("cloudwatch").put_metric_data(Namespace="Persistence", MetricData=[fine])
    alarm = next(a["AlarmName"] for a in aws("cloudwatch").describe_alarms()["MetricAlarms"] if "dlq" in a["AlarmName"].lower())
    history = wait_for(  # the message sent to the DLQ above: the evaluator (every 10 s) moves its alarm to ALARM
        lambda: aws("cloudwatch").describe_alarm_history(AlarmName=alarm, HistoryItemType="StateUpdate")["AlarmHistoryItems"],
        timeout=45,
        interval=0.5,
        message="the DLQ alarm's history",
    )
    control.control(endpoint, "clock", {"advance": "1h"})
    control.control(endpoint, "chaos", {"sns_publish_failure_rate": 0.5})
    shard = aws("dynamodbstreams").describe_stream(StreamArn=outputs["TableStreamArn"])["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = aws("dynamodbstreams").get_shard_iterator(
        StreamArn=outputs["TableStreamArn"], ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )
    records = aws("dynamodbstreams").get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    group = f"/aws/lambda/{outputs['CreateOrderFunctionName']}"
    return SimpleNamespace(
        order_id=order_id,
        item=_status(aws, table, order_id)[1],
        subscriber=subscriber,
        subscription=subscription,
        work=work,
        in_flight=in_flight[0]["MessageId"],
        ciphertext=ciphertext,
        alarm=alarm,
        alarm_history=[(h["Timestamp"], h["HistorySummary"]) for h in history],
        stream_shard=shard,
        sequence_numbers=[r["dynamodb"]["SequenceNumber"] for r in records],
        log_group=group,
        log_events=len(aws("logs").filter_log_events(logGroupName=group)["events"]),
        roles=sorted(r["RoleName"] for r in aws("iam").list_roles()["Roles"]),
        stack=aws("cloudformation").describe_stacks(StackName="techtest-orders")["Stacks"][0],
    )


@pytest.fixture(scope="module")
def restarted(tmp_path_factory):
    state_dir = tmp_path_factory.mktemp("sandbox-persistence")
    first, _ = control.start(port=0, state_dir=state_dir, deploy=True, timeout_s=120, iam="enforce")
    try:
        before = _populate(Aws(first.endpoint), first.outputs, first.endpoint)
        assert control.stop(state_dir)
        second, started = control.start(port=0, state_dir=state_dir, deploy=True, timeout_s=120, iam="enforce")
        assert started and second.pid != first.pid
        yield SimpleNamespace(before=before, aws=Aws(second.endpoint), state=second, outputs=second.outputs, state_dir=state_dir)
    finally:
        control.stop(state_dir)


def test_the_stack_is_there_without_a_redeploy(restarted):
    stack = restarted.aws("cloudformation").describe_stacks(StackName="techtest-orders")["Stacks"][0]
    assert stack["StackId"] == restarted.before.stack["StackId"]
    assert stack.get("LastUpdatedTime") == restarted.before.stack.get("LastUpdatedTime")
    assert restarted.outputs == {o["OutputKey"]: o["OutputValue"] for o in restarted.before.stack["Outputs"]}
    assert "not deployed again" in (restarted.state_dir / "sandbox.log").read_text()


def test_dynamodb_items(restarted):
    status, item = _status(restarted.aws, restarted.outputs["TableName"], restarted.before.order_id)
    assert status == "PROCESSED" and item == restarted.before.item


def test_stream_records_and_the_mapping_carries_on_from_its_checkpoint(restarted):
    aws, outputs = restarted.aws, restarted.outputs
    iterator = aws("dynamodbstreams").get_shard_iterator(
        StreamArn=outputs["TableStreamArn"], ShardId=restarted.before.stream_shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    kept = [r["dynamodb"]["SequenceNumber"] for r in aws("dynamodbstreams").get_records(ShardIterator=iterator)["Records"]]
    assert kept[: len(restarted.before.sequence_numbers)] == restarted.before.sequence_numbers
    order_id = invoke_create(aws("lambda"), outputs["CreateOrderFunctionName"], random_request(random.Random(8))).order["orderId"]
    wait_for(lambda: (_status(aws, outputs["TableName"], order_id)[1] or {}).get("notifiedAt"), timeout=30, message="a new order notified")
    # Only the new order: the old one was checkpointed before the stop, so it is not delivered again.
    assert wait_for(lambda: _notifications(aws, restarted.before.subscriber), timeout=10, message="the notification") == [order_id]
    assert _notifications(aws, restarted.before.subscriber) == []
    shards = [shard for mapping in control.control(restarted.state.endpoint, "mappings").values() for shard in mapping["shards"]]
    assert sum(shard["records_delivered"] for shard in shards) == 1  # the new order's INSERT, nothing read again


def test_sqs_messages_with_receive_counts_and_visibility(restarted):
    sqs, work = restarted.aws("sqs"), restarted.before.work
    visible = sqs.receive_message(QueueUrl=work, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=1)["Messages"]
    assert [m["Body"] for m in visible] == ["waiting"]  # "in flight" stays invisible for its 600 s
    assert visible[0]["Attributes"]["ApproximateReceiveCount"] == "2"
    attributes = sqs.get_queue_attributes(QueueUrl=work, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "2"
    dlq = sqs.receive_message(QueueUrl=restarted.outputs["DlqUrl"], MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"]) for m in dlq] == [{"kept": "in the DLQ"}]


def test_sns_topic_and_subscription(restarted):
    subscriptions = restarted.aws("sns").list_subscriptions_by_topic(TopicArn=restarted.outputs["TopicArn"])["Subscriptions"]
    assert restarted.before.subscription in [s["SubscriptionArn"] for s in subscriptions]


def test_kms_key_still_decrypts_old_ciphertexts(restarted):
    assert restarted.aws("kms").decrypt(CiphertextBlob=restarted.before.ciphertext)["Plaintext"] == b"old secret"


def test_log_groups_and_events(restarted):
    events = restarted.aws("logs").filter_log_events(logGroupName=restarted.before.log_group)["events"]
    assert len(events) >= restarted.before.log_events > 0


def test_cloudwatch_metric_datapoints(restarted):
    now = datetime.now(UTC)
    points = restarted.aws("cloudwatch").get_metric_statistics(
        Namespace="Persistence",
        MetricName="Kept",
        StartTime=now - timedelta(minutes=30),
        EndTime=now + timedelta(minutes=1),
        Period=60,
        Statistics=["Sum"],
    )["Datapoints"]
    assert sum(p["Sum"] for p in points) == 42.0
    fine = restarted.aws("cloudwatch").get_metric_statistics(
        Namespace="Persistence",
        MetricName="KeptFine",
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=1),
        Period=10,
        Statistics=["Sum"],
    )["Datapoints"]
    assert [(p["Timestamp"].second, p["Sum"]) for p in fine] == [(20, 7.0)], "its 1-second data: the 10 s period at :20"


def test_alarm_state_and_history(restarted):
    cloudwatch, alarm = restarted.aws("cloudwatch"), restarted.before.alarm
    history = cloudwatch.describe_alarm_history(AlarmName=alarm, HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert set(restarted.before.alarm_history) <= {(h["Timestamp"], h["HistorySummary"]) for h in history}
    assert cloudwatch.describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]["StateValue"] in ("OK", "ALARM", "INSUFFICIENT_DATA")


def test_iam_roles_and_policies(restarted):
    iam = restarted.aws("iam")
    assert sorted(r["RoleName"] for r in iam.list_roles()["Roles"]) == restarted.before.roles
    role = next(name for name in restarted.before.roles if "ProcessOrder" in name or "Process" in name)
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] or iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]


def test_the_ttl_clock_is_kept_and_chaos_is_off(restarted):
    clock = control.control(restarted.state.endpoint, "clock")
    assert 3600 <= clock["offset_s"] < 3700
    assert control.control(restarted.state.endpoint, "chaos")["sns_publish_failure_rate"] == 0


def test_the_current_code_deploys_into_a_restored_sandbox_and_its_data_stays(restarted):
    assert "warning" not in control.control(restarted.state.endpoint, "health")  # the code did not change
    deployed = control.redeploy(restarted.state_dir)
    assert deployed.outputs == restarted.outputs
    status, _ = _status(restarted.aws, restarted.outputs["TableName"], restarted.before.order_id)
    assert status == "PROCESSED"


def test_the_status_says_where_the_state_lives(restarted):
    persistence = control.control(restarted.state.endpoint, "health")["persistence"]
    assert persistence["path"] == str((restarted.state_dir / "state.snapshot").resolve())
    assert persistence["restored_from"] and persistence["last_size_bytes"] > 0 and persistence["age_s"] is not None


def test_a_snapshot_saved_and_loaded_elsewhere_is_the_same_sandbox(restarted, tmp_path):
    exported = tmp_path / "shared.snapshot"
    info = control.save_snapshot(exported, restarted.state_dir)
    assert info["size_bytes"] == exported.stat().st_size > 0
    other_dir = tmp_path / "other"
    state = control.load_snapshot(exported, other_dir, port=0, timeout_s=120)
    try:
        status, _ = _status(Aws(state.endpoint), state.outputs["TableName"], restarted.before.order_id)
        assert status == "PROCESSED"
    finally:
        control.stop(other_dir)
    garbage = tmp_path / "garbage.snapshot"
    garbage.write_bytes(base64.b64encode(b"not a snapshot"))
    with pytest.raises(control.SandboxError, match="cannot be loaded"):
        control.load_snapshot(garbage, tmp_path / "third", port=0)

"""moto's state through ``capture`` and ``restore``: made with boto3 in one ``mock_aws``, captured,
restored into a fresh one, then read back with the same calls, on moto in process."""

from __future__ import annotations

import copyreg
import io
import json
import pickle
import sys
import time
import zipfile
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws
from moto.awslambda.models import lambda_backends
from moto.cloudformation.models import cloudformation_backends
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodbstreams.models import dynamodbstreams_backends
from moto.logs.models import LogEvent
from moto.s3.models import s3_backends
from moto.sqs.models import sqs_backends

from orders_lib.sandbox.persistence import moto_state, registries

ACCOUNT, REGION, OTHER_ACCOUNT = "123456789012", "us-east-1", "111111111111"
EXTRA = {"clock": {"offset_s": 3600.0}, "checkpoints": {"orders": [3, "49600"]}, "nothing": None}
T0 = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=10)  # metric data of the last minutes
POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}]}
QUEUE_FROM_STACK = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "from-stack"}}}}


# botocore sends DynamoDB Streams calls to an account's own host, which moto 5.2.5 does not route.
STREAMS_ENDPOINT = {"dynamodbstreams": f"https://streams.dynamodb.{REGION}.amazonaws.com"}


def aws(service, **credentials):
    return boto3.client(service, region_name=REGION, endpoint_url=STREAMS_ENDPOINT.get(service), **credentials)


def function_zip():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def build():
    """A state touching every service the sandbox uses; returns what later checks need."""
    ddb = aws("dynamodb")
    table = ddb.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    for n in range(5):
        ddb.put_item(TableName="orders", Item={"pk": {"S": f"order-{n}"}, "amount": {"N": str(n)}, "lines": {"L": [{"S": "a"}]}})
    streams = aws("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=table["LatestStreamArn"])["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=table["LatestStreamArn"], ShardId=shard, ShardIteratorType="TRIM_HORIZON")

    sqs = aws("sqs")
    work = sqs.create_queue(QueueName="work", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    for body in ("one", "two", "three"):
        sqs.send_message(QueueUrl=work, MessageBody=body)
    [received] = sqs.receive_message(QueueUrl=work, MaxNumberOfMessages=1, VisibilityTimeout=600)["Messages"]
    watch = sqs.create_queue(QueueName="watch")["QueueUrl"]
    watch_arn = sqs.get_queue_attributes(QueueUrl=watch, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = aws("sns").create_topic(Name="notifications")["TopicArn"]
    aws("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=watch_arn, Attributes={"RawMessageDelivery": "true"})

    kms = aws("kms")
    key = kms.create_key(Description="orders")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/orders", TargetKeyId=key)
    signing = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"]["KeyId"]

    cloudwatch = aws("cloudwatch")
    cloudwatch.put_metric_data(Namespace="Orders", MetricData=[{"MetricName": "Created", "Value": v, "Timestamp": T0} for v in (1, 2, 3)])
    cloudwatch.put_metric_alarm(
        AlarmName="too-many",
        Namespace="Orders",
        MetricName="Created",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=5,
        ComparisonOperator="GreaterThanThreshold",
        AlarmActions=[topic],
    )
    logs = aws("logs")
    logs.create_log_group(logGroupName="/aws/lambda/fn")
    logs.create_log_stream(logGroupName="/aws/lambda/fn", logStreamName="s1")
    now_ms = int(time.time() * 1000)  # CloudWatch Logs drops events older than 14 days
    events = [{"timestamp": now_ms - 1000 + i, "message": f"line {i}"} for i in range(3)]
    logs.put_log_events(logGroupName="/aws/lambda/fn", logStreamName="s1", logEvents=events)

    iam = aws("iam")
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))["Role"]["Arn"]
    iam.put_role_policy(RoleName="fn", PolicyName="tables", PolicyDocument=json.dumps(POLICY))
    assumed = aws("sts").assume_role(RoleArn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/elsewhere", RoleSessionName="visit")["Credentials"]
    lambda_ = aws("lambda")
    lambda_.create_function(FunctionName="fn", Runtime="python3.12", Role=role, Handler="index.handler", Code={"ZipFile": function_zip()})
    mapping = lambda_.create_event_source_mapping(
        EventSourceArn=table["LatestStreamArn"], FunctionName="fn", StartingPosition="TRIM_HORIZON", BatchSize=10
    )["UUID"]

    aws("ssm").put_parameter(Name="/orders/limit", Value="42", Type="String")
    aws("ssm").put_parameter(Name="/orders/secret", Value="s3cr3t", Type="SecureString", KeyId=key)
    aws("s3").create_bucket(Bucket="assets")
    aws("s3").put_object(Bucket="assets", Key="code/fn.zip", Body=b"zip bytes")
    aws("cloudformation").create_stack(StackName="queues", TemplateBody=json.dumps(QUEUE_FROM_STACK))
    return {
        "ciphertext": kms.encrypt(KeyId="alias/orders", Plaintext=b"card 4242")["CiphertextBlob"],
        "signature": kms.sign(KeyId=signing, Message=b"order-1", SigningAlgorithm="ECDSA_SHA_256")["Signature"],
        "signing": signing,
        "stream": table["LatestStreamArn"],
        "iterator": iterator["ShardIterator"],
        "received": received,
        "queues": {"work": work, "watch": watch},
        "topic": topic,
        "mapping": mapping,
        "assumed": assumed_credentials(assumed),
        "identity": aws("sts", **assumed_credentials(assumed)).get_caller_identity(),
    }


def assumed_credentials(credentials):
    return {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }


def observe(made):
    """What the APIs say, with calls that change nothing."""
    ddb, sqs, lambda_ = aws("dynamodb"), aws("sqs"), aws("lambda")
    table = ddb.describe_table(TableName="orders")["Table"]
    role = aws("iam").get_role(RoleName="fn")["Role"]
    role.pop("RoleLastUsed", None)  # an STS call made with any key marks it
    return {
        "table": {
            k: table[k] for k in ("TableArn", "ItemCount", "KeySchema", "StreamSpecification", "LatestStreamArn", "CreationDateTime")
        },
        "items": sorted(json.dumps(item, sort_keys=True) for item in ddb.scan(TableName="orders")["Items"]),
        "stream": aws("dynamodbstreams").describe_stream(StreamArn=made["stream"])["StreamDescription"],
        "queues": {
            name: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"] for name, url in made["queues"].items()
        },
        "subscriptions": aws("sns").list_subscriptions()["Subscriptions"],
        "topic": aws("sns").get_topic_attributes(TopicArn=made["topic"])["Attributes"],
        "keys": [aws("kms").describe_key(KeyId=k["KeyId"])["KeyMetadata"] for k in aws("kms").list_keys()["Keys"]],
        "aliases": [a for a in aws("kms").list_aliases()["Aliases"] if a["AliasName"] == "alias/orders"],
        "alarms": aws("cloudwatch").describe_alarms()["MetricAlarms"],
        "metric": aws("cloudwatch").get_metric_statistics(
            Namespace="Orders",
            MetricName="Created",
            StartTime=T0 - timedelta(minutes=5),
            EndTime=T0 + timedelta(minutes=5),
            Period=60,
            Statistics=["Sum", "SampleCount"],
        )["Datapoints"],
        "log_groups": aws("logs").describe_log_groups()["logGroups"],
        "log_events": aws("logs").get_log_events(logGroupName="/aws/lambda/fn", logStreamName="s1", startFromHead=True)["events"],
        "role": role,
        "role_policy": aws("iam").get_role_policy(RoleName="fn", PolicyName="tables")["PolicyDocument"],
        "function": without_metadata(lambda_.get_function_configuration(FunctionName="fn")),
        "mappings": lambda_.list_event_source_mappings()["EventSourceMappings"],
        "parameters": aws("ssm").get_parameters(Names=["/orders/limit", "/orders/secret"], WithDecryption=True)["Parameters"],
        "object": aws("s3").get_object(Bucket="assets", Key="code/fn.zip")["Body"].read(),
        "buckets": [b["Name"] for b in aws("s3").list_buckets()["Buckets"]],
        "stacks": aws("cloudformation").describe_stacks(StackName="queues")["Stacks"],
    }


@pytest.fixture(scope="module")
def captured():
    """Made once: (what build returned, the APIs' answers before capture, the registries captured, the payload)."""
    buffer = io.BytesIO()
    with mock_aws():
        made = build()
        before = observe(made)
        names = sorted(registries.in_use())
        moto_state.capture(buffer, EXTRA)
    return made, before, names, buffer.getvalue()


@pytest.fixture
def round_trip(captured):
    """(made, observed before capture, registries captured, extra) with the payload restored into a fresh moto."""
    made, before, names, payload = captured
    with mock_aws():
        aws("dynamodb").create_table(  # state of the new moto, which the restore replaces
            TableName="stray",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        extra = moto_state.restore(io.BytesIO(payload))
        yield made, before, names, extra


def without_metadata(view):
    return {key: value for key, value in view.items() if key != "ResponseMetadata"}


def test_the_apis_answer_as_before(round_trip):
    made, before, _, _ = round_trip
    after = observe(made)
    assert all(before.values())  # every call saw something: an empty answer would prove nothing
    for name in before:
        assert after[name] == before[name], name
    assert aws("dynamodb").list_tables()["TableNames"] == ["orders"]  # the stray table is gone


def test_every_registry_used_is_captured_and_back_in_the_live_registries(round_trip):
    _, _, captured, extra = round_trip
    assert extra == EXTRA
    for service in ("dynamodb", "dynamodbstreams", "sqs", "sns", "kms", "cloudwatch", "logs", "iam", "sts", "awslambda", "ssm", "s3"):
        assert any(name.startswith(f"moto.{service}.") for name in captured), service
    assert sorted(registries.in_use()) == captured
    assert s3_backends.bucket_accounts["assets"] == ("aws", ACCOUNT)  # the registry's own attribute


def test_objects_shared_between_services_are_still_one_object(round_trip):
    made, _, _, _ = round_trip
    table = dynamodb_backends[ACCOUNT][REGION].get_table("orders")
    iterator = dynamodbstreams_backends[ACCOUNT][REGION].shard_iterators[made["iterator"]]
    assert iterator.stream_shard is table.stream_shard
    mapping = lambda_backends[ACCOUNT][REGION]._event_source_mappings[made["mapping"]]
    assert table.lambda_event_source_mappings[mapping.function_arn] is mapping
    [stack] = cloudformation_backends[ACCOUNT][REGION].stacks.values()
    assert stack.resource_map["Queue"] is sqs_backends[ACCOUNT][REGION].queues["from-stack"]


def test_old_iterators_ciphertexts_signatures_receipts_and_credentials_still_work(round_trip):
    made, _, _, _ = round_trip
    records = aws("dynamodbstreams").get_records(ShardIterator=made["iterator"])["Records"]
    assert [r["eventName"] for r in records] == ["INSERT"] * 5
    assert aws("kms").decrypt(CiphertextBlob=made["ciphertext"])["Plaintext"] == b"card 4242"
    verified = aws("kms").verify(KeyId=made["signing"], Message=b"order-1", Signature=made["signature"], SigningAlgorithm="ECDSA_SHA_256")
    assert verified["SignatureValid"]
    identity = aws("sts", **made["assumed"]).get_caller_identity()
    assert (identity["Account"], identity["Arn"]) == (OTHER_ACCOUNT, made["identity"]["Arn"])  # moto makes up a UserId each time


def test_queues_keep_in_flight_messages_and_the_subscription_delivers(round_trip):
    made, _, _, _ = round_trip
    sqs, work = aws("sqs"), made["queues"]["work"]
    visible = sqs.receive_message(QueueUrl=work, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]
    assert sorted(m["Body"] for m in visible) == sorted({"one", "two", "three"} - {made["received"]["Body"]})
    sqs.change_message_visibility(QueueUrl=work, ReceiptHandle=made["received"]["ReceiptHandle"], VisibilityTimeout=0)
    again = sqs.receive_message(QueueUrl=work, MaxNumberOfMessages=10, MessageSystemAttributeNames=["ApproximateReceiveCount"])
    counts = {m["Body"]: m["Attributes"]["ApproximateReceiveCount"] for m in again["Messages"]}
    assert counts[made["received"]["Body"]] == "2"
    aws("sns").publish(TopicArn=made["topic"], Message="after restore")
    [delivered] = sqs.receive_message(QueueUrl=made["queues"]["watch"], WaitTimeSeconds=1)["Messages"]
    assert delivered["Body"] == "after restore"


def moto_classes():
    """Every class of the loaded moto modules and what its own namespace holds."""
    return {
        value: dict(vars(value))
        for name, module in list(sys.modules.items())
        if name.startswith("moto.") and module is not None
        for value in list(vars(module).values())
        if isinstance(value, type) and value.__module__.startswith("moto.")
    }


def test_capture_changes_no_moto_class_and_no_global_dispatch_table(round_trip):
    classes, dispatch = moto_classes(), dict(copyreg.dispatch_table)
    moto_state.capture(io.BytesIO(), {})
    assert copyreg.dispatch_table == dispatch
    assert moto_classes().keys() == classes.keys()
    changed = [cls for cls, attributes in classes.items() if vars(cls).keys() != attributes.keys()]
    replaced = [cls for cls, attributes in classes.items() if any(vars(cls)[k] is not v for k, v in attributes.items())]
    assert changed == [] and replaced == []


def test_a_payload_is_one_pickle_of_plain_containers():
    """Registries are captured as dicts: loading with the plain unpickler creates no registry."""
    buffer = io.BytesIO()
    with mock_aws():
        aws("sqs").create_queue(QueueName="q")
        moto_state.capture(buffer, {"n": 1})
    payload = pickle.loads(buffer.getvalue())
    assert payload["extra"] == {"n": 1}
    assert type(payload["registries"]["moto.sqs.models:sqs_backends"]["backends"][ACCOUNT]) is dict
    assert buffer.getvalue()[:2] == b"\x80\x05"  # protocol 5


def test_only_registries_holding_a_backend_are_captured():
    with mock_aws():
        dynamodb_backends[OTHER_ACCOUNT]  # an account asked for, no backend made: nothing to keep
        aws("sqs").create_queue(QueueName="q")
        # every request looks its access key up in IAM (moto.core.responses), which makes IAM's backend
        assert sorted(registries.in_use()) == ["moto.iam.models:iam_backends", "moto.sqs.models:sqs_backends"]


def test_a_model_referring_to_a_registry_gets_the_live_one_back():
    buffer = io.BytesIO()
    with mock_aws():
        aws("sqs").create_queue(QueueName="q")
        backend = sqs_backends[ACCOUNT][REGION]
        backend.refers_to = {"registry": sqs_backends, "account": sqs_backends[ACCOUNT]}
        moto_state.capture(buffer, {})
    with mock_aws():
        moto_state.restore(io.BytesIO(buffer.getvalue()))
        refers_to = sqs_backends[ACCOUNT][REGION].refers_to
        assert refers_to["registry"] is sqs_backends
        assert refers_to["account"] is dict.__getitem__(sqs_backends, ACCOUNT)


def test_new_log_events_continue_the_restored_event_ids(captured, monkeypatch):
    monkeypatch.setattr(LogEvent, "_event_id", 0)  # as in a new process
    with mock_aws():
        moto_state.restore(io.BytesIO(captured[3]))
        aws("logs").put_log_events(
            logGroupName="/aws/lambda/fn", logStreamName="s1", logEvents=[{"timestamp": int(time.time() * 1000), "message": "new"}]
        )
        events = aws("logs").filter_log_events(logGroupName="/aws/lambda/fn")["events"]
        assert len(events) == 4 and len({e["eventId"] for e in events}) == 4

"""The sandbox's fixes to moto, each checked on moto in process."""

from __future__ import annotations

import boto3
import moto.core.responses
import pytest
from moto import mock_aws
from moto.core.utils import method_names_from_class
from moto.dynamodb.responses import DynamoHandler
from moto.sqs.models import Queue, SQSBackend

from orders_lib.sandbox import moto_core
from orders_lib.sandbox.cloudformation import moto_patches as moto_cloudformation
from orders_lib.sandbox.dynamodb import expressions
from orders_lib.sandbox.dynamodb import moto_patches as dynamodb_patches
from orders_lib.sandbox.dynamodb.streams import MotoStreamReader
from orders_lib.sandbox.lambda_ import moto_patches as lambda_patches
from orders_lib.sandbox.sqs import moto_patches as sqs_patches


@pytest.fixture
def sqs(monkeypatch):
    monkeypatch.setattr(SQSBackend, "is_message_valid_based_on_retention_period", sqs_patches.message_within_retention)
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def test_receiving_does_not_build_the_queues_attributes_per_message(sqs, monkeypatch):
    """moto built every attribute of the queue (a walk over all its messages) for each
    message received: quadratic in the queue's length."""
    url = sqs.create_queue(QueueName="many")["QueueUrl"]
    for start in range(0, 200, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{start + i}"} for i in range(10)])
    built = []
    original = Queue.attributes
    monkeypatch.setattr(Queue, "attributes", property(lambda queue: built.append(1) or original.fget(queue)))
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(received) == 10
    assert built == []


def test_messages_past_the_retention_period_are_still_dropped(sqs, monkeypatch):
    url = sqs.create_queue(QueueName="short", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="old")
    later = sqs_patches.unix_time() + 61
    monkeypatch.setattr(sqs_patches, "unix_time", lambda: later)
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages") is None
    monkeypatch.setattr(sqs_patches, "unix_time", lambda: later - 2)
    sqs.send_message(QueueUrl=url, MessageBody="young")  # sent "now", well inside 60 s
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]] == ["young"]


TEMPLATE = """{
  "Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Ref": "Name"}}}},
  "Parameters": {"Name": {"Type": "String"}, "Label": {"Type": "String"}},
  "Outputs": {"QueueUrl": {"Value": {"Ref": "Queue"}}, "Given": {"Value": {"Ref": "Label"}}}
}"""


def test_a_stack_made_by_a_change_set_has_its_outputs(monkeypatch):
    """The CDK CLI deploys through change sets; its outputs file and our stack outputs read them."""
    from moto.cloudformation.models import ChangeSet

    monkeypatch.setattr(ChangeSet, "apply", moto_cloudformation.apply_change_set)
    with mock_aws():
        cfn = boto3.client("cloudformation", region_name="us-east-1")
        for kind, label in (("CREATE", "first"), ("UPDATE", "second")):
            parameters = [{"ParameterKey": "Name", "ParameterValue": "orders-queue"}, {"ParameterKey": "Label", "ParameterValue": label}]
            cfn.create_change_set(
                StackName="made-by-change-set",
                ChangeSetName=f"cs-{label}",
                ChangeSetType=kind,
                TemplateBody=TEMPLATE,
                Parameters=parameters,
            )
            cfn.execute_change_set(StackName="made-by-change-set", ChangeSetName=f"cs-{label}")
            stack = cfn.describe_stacks(StackName="made-by-change-set")["Stacks"][0]
            outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
            assert outputs["Given"] == label and outputs["QueueUrl"].endswith("/orders-queue")
            assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]} == {"Name": "orders-queue", "Label": label}


@pytest.fixture
def change_sets(monkeypatch):
    """moto with the sandbox's change set fixes, as the sandbox installs them."""
    from moto.cloudformation.models import ChangeSet, Stack
    from moto.cloudformation.responses import CloudFormationResponse

    monkeypatch.setattr(ChangeSet, "apply", moto_cloudformation.apply_change_set)
    monkeypatch.setattr(Stack, "stack_parameters", property(moto_cloudformation.previous_parameters))
    for name in ("describe_change_set", "delete_change_set", "execute_change_set"):
        monkeypatch.setattr(CloudFormationResponse, name, getattr(moto_cloudformation, name))
    with mock_aws():
        yield boto3.client("cloudformation", region_name="us-east-1")


def deploy(cfn, stack, label, kind):
    """What ``cdk deploy`` does: clear its change set name, create, describe, execute."""
    cfn.delete_change_set(StackName=stack, ChangeSetName="cdk-deploy-change-set") if kind == "UPDATE" else None
    cfn.create_change_set(
        StackName=stack,
        ChangeSetName="cdk-deploy-change-set",
        ChangeSetType=kind,
        TemplateBody=TEMPLATE,
        Parameters=[{"ParameterKey": "Name", "ParameterValue": f"{stack}-queue"}, {"ParameterKey": "Label", "ParameterValue": label}],
    )
    assert cfn.describe_change_set(StackName=stack, ChangeSetName="cdk-deploy-change-set")["StackName"] == stack
    cfn.execute_change_set(StackName=stack, ChangeSetName="cdk-deploy-change-set")


def test_change_set_names_belong_to_their_stack_and_go_once_executed(change_sets):
    cfn = change_sets
    for stack in ("CDKToolkit", "orders-cli"):
        deploy(cfn, stack, "v1", "CREATE")
    deploy(cfn, "orders-cli", "v2", "UPDATE")
    deploy(cfn, "orders-cli", "v3", "UPDATE")
    given = {s["StackName"]: {o["OutputKey"]: o["OutputValue"] for o in s["Outputs"]}["Given"] for s in cfn.describe_stacks()["Stacks"]}
    assert given == {"CDKToolkit": "v1", "orders-cli": "v3"}
    assert cfn.list_change_sets(StackName="orders-cli")["Summaries"] == []
    with pytest.raises(cfn.exceptions.ChangeSetNotFoundException):
        cfn.describe_change_set(StackName="orders-cli", ChangeSetName="cdk-deploy-change-set")


SSM_TEMPLATE = """{
  "Parameters": {"Version": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/cdk-bootstrap/test/version"},
                 "Label": {"Type": "String"}},
  "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
  "Outputs": {"Version": {"Value": {"Ref": "Version"}}, "Label": {"Value": {"Ref": "Label"}}}
}"""


def test_use_previous_value_resolves_an_ssm_parameter_again(change_sets):
    """``cdk deploy`` updates with ``BootstrapVersion`` UsePreviousValue: the previous value is the
    SSM parameter's name, looked up again, not the version it resolved to."""
    cfn = change_sets
    boto3.client("ssm", region_name="us-east-1").put_parameter(Name="/cdk-bootstrap/test/version", Value="33", Type="String")
    for kind, parameters in (
        ("CREATE", [{"ParameterKey": "Label", "ParameterValue": "v1"}]),
        ("UPDATE", [{"ParameterKey": "Label", "ParameterValue": "v2"}, {"ParameterKey": "Version", "UsePreviousValue": True}]),
    ):
        cfn.create_change_set(
            StackName="ssm-stack", ChangeSetName="cs", ChangeSetType=kind, TemplateBody=SSM_TEMPLATE, Parameters=parameters
        )
        cfn.execute_change_set(StackName="ssm-stack", ChangeSetName="cs")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName="ssm-stack")["Stacks"][0]["Outputs"]}
    assert outputs == {"Version": "33", "Label": "v2"}


def test_a_function_may_use_a_public_layer_of_another_account(monkeypatch):
    """The stack's functions use AWS's public Powertools layer; moto knew no such layer
    and failed every update of a function that names it."""
    import io
    import zipfile

    from moto.awslambda.models import LambdaFunction

    monkeypatch.setattr(LambdaFunction, "_get_layers_data", lambda_patches.layers_as_given)
    public = "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:27"
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    with mock_aws():
        role = boto3.client("iam", region_name="us-east-1").create_role(
            RoleName="fn", AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}'
        )["Role"]["Arn"]
        lam = boto3.client("lambda", region_name="us-east-1")
        lam.create_function(FunctionName="fn", Runtime="python3.12", Role=role, Handler="index.handler", Code={"ZipFile": code.getvalue()})
        lam.update_function_configuration(FunctionName="fn", Layers=[public])
        assert [layer["Arn"] for layer in lam.get_function_configuration(FunctionName="fn")["Layers"]] == [public]


def test_conditional_updates_are_atomic_as_on_dynamodb(monkeypatch):
    """moto checks a condition, then writes: two concurrent NEW -> PROCESSED updates could
    both pass. The sandbox serialises item writes; a slowed-down condition check shows it."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from botocore.exceptions import ClientError
    from moto.dynamodb import models as dynamodb_models
    from moto.dynamodb.models import DynamoDBBackend

    real_parser = dynamodb_models.create_condition_expression_parser

    def slow_parser(*args, **kwargs):
        parsed = real_parser(*args, **kwargs).parse()
        holds = parsed.expr

        class Slow:
            def parse(self):
                return self

            def expr(self, item):
                outcome = holds(item)
                time.sleep(0.05)  # the window between the check and the write
                return outcome

        return Slow()

    monkeypatch.setattr(dynamodb_models, "create_condition_expression_parser", slow_parser)

    def winners(client):
        client.put_item(TableName="t", Item={"k": {"S": "o"}, "status": {"S": "NEW"}})
        barrier = threading.Barrier(4)

        def transition(n):
            barrier.wait()
            try:
                client.update_item(
                    TableName="t",
                    Key={"k": {"S": "o"}},
                    UpdateExpression="SET #s = :p, #by = :n",
                    ConditionExpression="#s = :new",
                    ExpressionAttributeNames={"#s": "status", "#by": "by"},
                    ExpressionAttributeValues={":p": {"S": "PROCESSED"}, ":new": {"S": "NEW"}, ":n": {"N": str(n)}},
                )
                return 1
            except ClientError:
                return 0

        with ThreadPoolExecutor(4) as pool:
            return sum(pool.map(transition, range(4)))

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        assert winners(client) > 1, "without the lock moto lets several conditional updates through"
        monkeypatch.setattr(DynamoDBBackend, "update_item", dynamodb_patches.serialized(DynamoDBBackend.update_item))
        monkeypatch.setattr(DynamoDBBackend, "put_item", dynamodb_patches.serialized(DynamoDBBackend.put_item))
        assert winners(client) == 1


def test_a_response_class_s_methods_are_listed_once():
    moto_core.install()
    try:
        listed = moto.core.responses.method_names_from_class(DynamoHandler)
        assert listed == method_names_from_class(DynamoHandler) and "put_item" in listed
        assert moto.core.responses.method_names_from_class(DynamoHandler) is listed
    finally:
        moto_core.uninstall()
    assert moto.core.responses.method_names_from_class is method_names_from_class


def test_update_expressions_are_parsed_once_and_each_request_applies_its_own_values():
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    written: list[str] = []
    dynamodb_patches.install(written.append)
    try:
        expression = "SET #s = :s, amount = amount + :add"
        tree = UpdateExpressionParser.make(expression)
        shown = repr(tree)
        with mock_aws():
            client = boto3.client("dynamodb", region_name="eu-west-1")
            client.create_table(
                TableName="t",
                KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
                StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            )
            for n in range(3):
                client.put_item(TableName="t", Item={"k": {"S": f"o{n}"}, "amount": {"N": "1"}})
                got = client.update_item(
                    TableName="t",
                    Key={"k": {"S": f"o{n}"}},
                    UpdateExpression=expression,
                    ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues={":s": {"S": f"S{n}"}, ":add": {"N": str(n)}},
                    ReturnValues="ALL_NEW",
                )["Attributes"]
                assert got == {"k": {"S": f"o{n}"}, "amount": {"N": str(1 + n)}, "status": {"S": f"S{n}"}}
            with pytest.raises(client.exceptions.ClientError, match="Invalid UpdateExpression"):
                client.update_item(TableName="t", Key={"k": {"S": "o0"}}, UpdateExpression="SET = oops")
            arn = client.describe_table(TableName="t")["Table"]["LatestStreamArn"]
            reader = MotoStreamReader("123456789012", "eu-west-1")
            records, _ = reader.read(reader.iterator(arn, reader.shard_ids(arn)[0], "TRIM_HORIZON"), 100)
            stored = dynamodb_backends["123456789012"]["eu-west-1"].tables["t"].stream_shard.items[-1].to_json()
        assert UpdateExpressionParser.make(expression) is tree and repr(tree) == shown
        assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"] * 3
        assert stored["awsRegion"] == "eu-west-1"
        assert records[-1]["dynamodb"]["OldImage"] == {"k": {"S": "o2"}, "amount": {"N": "1"}}
        assert records[-1]["dynamodb"]["NewImage"]["status"] == {"S": "S2"}
        assert written == ["t"] * 6
    finally:
        dynamodb_patches.uninstall()


def test_conditions_are_parsed_once_per_text_names_and_used_values():
    from moto.dynamodb import comparisons

    parsed: list[str] = []
    real = comparisons.create_condition_expression_parser

    def counting(expression, names, values):
        parsed.append(expression)
        return real(expression, names, values)

    conditions = expressions.cached_conditions(counting)
    guarded = conditions("#s = :new AND attribute_not_exists(gone)", {"#s": "status"}, {":new": {"S": "NEW"}, ":at": {"S": "t1"}})
    again = conditions("#s = :new AND attribute_not_exists(gone)", {"#s": "status"}, {":new": {"S": "NEW"}, ":at": {"S": "t2"}})
    other = conditions("#s = :new AND attribute_not_exists(gone)", {"#s": "status"}, {":new": {"S": "OLD"}})
    assert again is guarded and other is not guarded and len(parsed) == 2
    moto_parser = real("#s = :new AND attribute_not_exists(gone)", {"#s": "status"}, {":new": {"S": "NEW"}, ":at": {"S": "t1"}})
    moto_parser.parse()
    assert guarded.expr_attr_values_found == moto_parser.expr_attr_values_found == [":new"]
    assert guarded.expr_attr_names_found == moto_parser.expr_attr_names_found
    guarded.expr_attr_names_found.append("#x")  # callers extend the lists they get
    assert again.expr_attr_names_found == moto_parser.expr_attr_names_found
    blob = conditions("b = :b", None, {":b": {"B": b"\x00"}})  # not JSON: parsed on its own each time
    assert blob is not conditions("b = :b", None, {":b": {"B": b"\x00"}}) and parsed.count("b = :b") == 2


def test_conditional_writes_still_hold_with_parsed_conditions():
    dynamodb_patches.install(lambda table: None)
    try:
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            client.create_table(
                TableName="t",
                KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            put = {"TableName": "t", "ConditionExpression": "attribute_not_exists(k)"}
            client.put_item(Item={"k": {"S": "a"}, "s": {"S": "NEW"}}, **put)
            with pytest.raises(client.exceptions.ConditionalCheckFailedException):
                client.put_item(Item={"k": {"S": "a"}, "s": {"S": "NEW"}}, **put)
            update = {
                "TableName": "t",
                "Key": {"k": {"S": "a"}},
                "UpdateExpression": "SET s = :p, stamp = :at",
                "ConditionExpression": "s = :new",
            }
            values = {":p": {"S": "PROCESSED"}, ":new": {"S": "NEW"}}
            client.update_item(ExpressionAttributeValues={**values, ":at": {"S": "1"}}, **update)
            with pytest.raises(client.exceptions.ConditionalCheckFailedException):
                client.update_item(ExpressionAttributeValues={**values, ":at": {"S": "2"}}, **update)
            with pytest.raises(client.exceptions.ClientError, match="unused in expressions"):
                client.update_item(ExpressionAttributeValues={**values, ":at": {"S": "3"}, ":extra": {"S": "x"}}, **update)
            assert client.get_item(TableName="t", Key={"k": {"S": "a"}})["Item"]["stamp"] == {"S": "1"}
    finally:
        dynamodb_patches.uninstall()


def test_a_queue_forgets_the_oldest_deleted_receipt_handles(monkeypatch):
    monkeypatch.setattr(sqs_patches, "DELETED_HANDLES_KEPT", 3)
    sqs_patches.install(lambda queue: None)
    try:
        with mock_aws():
            sqs = boto3.client("sqs", region_name="us-east-1")
            url = sqs.create_queue(QueueName="consumed")["QueueUrl"]
            handles = []
            for n in range(5):
                sqs.send_message(QueueUrl=url, MessageBody=str(n))
                handle = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
                sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
                handles.append(handle)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=handles[-1])  # deleting again succeeds, as on AWS
            with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
                sqs.delete_message(QueueUrl=url, ReceiptHandle=handles[0])  # forgotten: 3 kept
    finally:
        sqs_patches.uninstall()

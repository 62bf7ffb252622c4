"""The synthesized template holds every resource and setting of the stack."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

from .conftest import only, resources

EXPECTED_OUTPUTS = {
    "TableName", "TableArn", "TableStreamArn", "TopicArn", "TopicName", "DlqUrl", "DlqArn", "DlqName",
    "CreateOrderFunctionName", "CreateOrderFunctionArn", "ProcessOrderFunctionName", "ProcessOrderFunctionArn",
    "CreateOrderLogGroupName", "ProcessOrderLogGroupName", "KeyArn", "KeyAlias", "EventSourceMappingId",
    "AlarmsTopicArn", "AlarmNames", "DashboardName",
}  # fmt: skip
METRICS_ENV = {"POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_SERVICE_NAME"}
KEY = {"Fn::GetAtt": [Match.string_like_regexp("^OrdersKey"), "Arn"]}


@pytest.fixture(scope="module")
def template(default_stack):
    return default_stack[0]


@pytest.fixture(scope="module")
def raw(default_stack):
    return default_stack[1]


def key_ref(raw):
    (logical_id,) = resources(raw, "AWS::KMS::Key")
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def test_key_rotates_and_has_the_alias(template, raw):
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    template.has_resource_properties("AWS::KMS::Alias", {"AliasName": "alias/techtest-orders"})
    assert len(resources(raw, "AWS::KMS::Key")) == 1


def test_key_policy_lets_cloudwatch_logs_encrypt_only_this_stacks_log_groups(raw):
    statements = only(raw, "AWS::KMS::Key")["Properties"]["KeyPolicy"]["Statement"]
    logs = next(s for s in statements if s.get("Sid") == "AllowCloudWatchLogsForThisStacksLogGroups")
    assert logs["Principal"]["Service"] == {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}
    arns = json.dumps(logs["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"])
    assert "log-group:/aws/lambda/techtest-create-order" in arns and "log-group:/aws/lambda/techtest-process-order" in arns
    alarms = next(s for s in statements if s.get("Sid") == "AllowCloudWatchAlarmsToUseTheAlarmsTopic")
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert sorted(alarms["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert json.dumps(alarms["Condition"]["ArnLike"]["aws:SourceArn"]).endswith(':alarm:techtest-orders-*"]]}')
    # the only other statement is CDK's account statement that delegates to IAM policies
    others = [s for s in statements if s is not logs and s is not alarms]
    assert len(others) == 1 and others[0]["Principal"]["AWS"]["Fn::Join"][1][-1] == ":root"


def test_table_on_demand_stream_cmk_pitr_ttl(template, raw):
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "TableName": "techtest-orders",
            "KeySchema": [{"AttributeName": "orderId", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_ref(raw)},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "TimeToLiveSpecification": {"AttributeName": "expiresAt", "Enabled": True},
        },
    )


def test_topic_and_dlq_use_the_key_and_enforce_ssl(template, raw):
    template.has_resource_properties("AWS::SNS::Topic", {"TopicName": "techtest-order-notifications", "KmsMasterKeyId": key_ref(raw)})
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {"QueueName": "techtest-orders-dlq", "KmsMasterKeyId": key_ref(raw), "MessageRetentionPeriod": 14 * 24 * 3600},
    )
    deny_insecure = Match.array_with([Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})])
    template.has_resource_properties("AWS::SNS::TopicPolicy", {"PolicyDocument": {"Statement": deny_insecure}})
    template.has_resource_properties("AWS::SQS::QueuePolicy", {"PolicyDocument": {"Statement": deny_insecure}})


@pytest.mark.parametrize(
    ("name", "handler", "timeout", "env_keys"),
    [
        ("techtest-create-order", "create_order.handler", 30, {"TABLE_NAME", "TTL_DAYS", *METRICS_ENV}),
        ("techtest-process-order", "process_order.handler", 60, {"TABLE_NAME", "TOPIC_ARN", *METRICS_ENV}),
    ],
)
def test_functions(raw, name, handler, timeout, env_keys):
    function = next(f for f in resources(raw, "AWS::Lambda::Function").values() if f["Properties"]["FunctionName"] == name)
    props = function["Properties"]
    assert props["Runtime"] == "python3.12" and props["Architectures"] == ["arm64"]
    assert props["MemorySize"] == 256 and props["Timeout"] == timeout and props["Handler"] == handler
    assert set(props["Environment"]["Variables"]) == env_keys
    assert props["KmsKeyArn"] == key_ref(raw)
    (layer,) = props["Layers"]  # Powertools' public layer, by its SSM parameter: see test_powertools.py
    assert raw["Parameters"][layer["Ref"]]["Type"] == "AWS::SSM::Parameter::Value<String>"
    log_group = raw["Resources"][props["LoggingConfig"]["LogGroup"]["Ref"]]["Properties"]
    assert log_group == {"LogGroupName": f"/aws/lambda/{name}", "RetentionInDays": 30, "KmsKeyId": key_ref(raw)}
    role = raw["Resources"][props["Role"]["Fn::GetAtt"][0]]["Properties"]
    assert "ManagedPolicyArns" not in role  # no AWSLambdaBasicExecutionRole
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}


def test_create_function_environment_values(raw):
    env = next(
        f["Properties"]["Environment"]["Variables"]
        for f in resources(raw, "AWS::Lambda::Function").values()
        if f["Properties"]["FunctionName"] == "techtest-create-order"
    )
    (table_id,) = resources(raw, "AWS::DynamoDB::Table")
    assert env == {
        "TABLE_NAME": {"Ref": table_id},
        "TTL_DAYS": "7",
        "POWERTOOLS_METRICS_NAMESPACE": "TechtestOrders",
        "POWERTOOLS_SERVICE_NAME": "techtest-orders",
    }


def test_event_source_mapping(raw):
    mapping = only(raw, "AWS::Lambda::EventSourceMapping")["Properties"]
    (table_id,) = resources(raw, "AWS::DynamoDB::Table")
    (queue_id,) = resources(raw, "AWS::SQS::Queue")
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [table_id, "StreamArn"]}
    assert mapping["BatchSize"] == 10 and mapping["MaximumRetryAttempts"] == 3
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["MaximumRecordAgeInSeconds"] == 3600
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": {"Fn::GetAtt": [queue_id, "Arn"]}}}
    (only_filter,) = mapping["FilterCriteria"]["Filters"]
    assert json.loads(only_filter["Pattern"]) == {
        "eventName": ["INSERT"],
        "dynamodb": {"NewImage": {"status": {"S": ["NEW"]}}},
    }
    function = raw["Resources"][mapping["FunctionName"]["Ref"]]["Properties"]
    assert function["FunctionName"] == "techtest-process-order"


def test_outputs_are_exactly_the_contract(raw):
    assert set(raw["Outputs"]) == EXPECTED_OUTPUTS
    (mapping_id,) = resources(raw, "AWS::Lambda::EventSourceMapping")
    assert raw["Outputs"]["EventSourceMappingId"]["Value"] == {"Ref": mapping_id}
    assert raw["Outputs"]["KeyAlias"]["Value"] == "alias/techtest-orders"


def test_default_removal_policy_is_retain(raw):
    stateful = ("AWS::KMS::Key", "AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::SNS::Topic", "AWS::Logs::LogGroup")
    for type_name in stateful:
        for logical_id, resource in resources(raw, type_name).items():
            assert resource.get("DeletionPolicy") == "Retain", logical_id
    assert "CheckBootstrapVersion" in raw.get("Rules", {})

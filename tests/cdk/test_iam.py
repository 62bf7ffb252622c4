"""Least privilege: each role holds exactly the calls its code makes."""

from __future__ import annotations

import pytest

from .conftest import resources

# The one documented exception: dynamodb:ListStreams has no resource-level
# permission, so AWS only accepts it on "*" (acknowledged as AwsSolutions-IAM5).
RESOURCE_STAR_ALLOWED = {"dynamodb:ListStreams"}
KEY_USE = {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"}
LOGS = {"logs:CreateLogStream", "logs:PutLogEvents"}


@pytest.fixture(scope="module")
def raw(default_stack):
    return default_stack[1]


def statements_of(raw, role_prefix):
    policies = [
        p["Properties"]
        for p in resources(raw, "AWS::IAM::Policy").values()
        if any(r["Ref"].startswith(role_prefix) for r in p["Properties"]["Roles"])
    ]
    return [s for p in policies for s in p["PolicyDocument"]["Statement"]]


def as_list(value):
    return value if isinstance(value, list) else [value]


def actions(statements):
    return {a for s in statements for a in as_list(s["Action"])}


def test_no_star_actions_and_star_resources_only_where_documented(raw):
    for policy in resources(raw, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            for action in as_list(statement["Action"]):
                assert "*" not in action, action
            if "*" in as_list(statement["Resource"]):
                assert set(as_list(statement["Action"])) <= RESOURCE_STAR_ALLOWED, statement
            for resource in as_list(statement["Resource"]):
                assert resource == "*" or isinstance(resource, dict), resource  # every other ARN is a reference


def test_no_managed_or_inline_policies_on_roles(raw):
    for role in resources(raw, "AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"] and "Policies" not in role["Properties"]
    assert len(resources(raw, "AWS::IAM::Role")) == 2


def test_create_order_may_put_and_read_back_only(raw):
    statements = statements_of(raw, "CreateOrderRole")
    (table_id,) = resources(raw, "AWS::DynamoDB::Table")
    assert actions(statements) == {"dynamodb:PutItem", "dynamodb:GetItem"} | KEY_USE | LOGS
    dynamo = next(s for s in statements if "dynamodb:PutItem" in as_list(s["Action"]))
    assert dynamo["Resource"] == {"Fn::GetAtt": [table_id, "Arn"]}


def test_process_order_reads_stream_updates_publishes_and_sends_to_dlq(raw):
    statements = statements_of(raw, "ProcessOrderRole")
    (table_id,) = resources(raw, "AWS::DynamoDB::Table")
    (topic_id,) = [
        k for k, v in resources(raw, "AWS::SNS::Topic").items() if v["Properties"]["TopicName"] == "techtest-order-notifications"
    ]
    (queue_id,) = resources(raw, "AWS::SQS::Queue")
    assert actions(statements) == {
        "dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams",
        "dynamodb:BatchGetItem", "dynamodb:UpdateItem", "sns:Publish", "sqs:SendMessage",
    } | KEY_USE | LOGS  # fmt: skip
    by_action = {a: s["Resource"] for s in statements for a in as_list(s["Action"])}
    assert by_action["dynamodb:GetRecords"] == {"Fn::GetAtt": [table_id, "StreamArn"]}
    assert by_action["dynamodb:UpdateItem"] == {"Fn::GetAtt": [table_id, "Arn"]}
    assert by_action["dynamodb:BatchGetItem"] == {"Fn::GetAtt": [table_id, "Arn"]}
    assert by_action["sns:Publish"] == {"Ref": topic_id}
    assert by_action["sqs:SendMessage"] == {"Fn::GetAtt": [queue_id, "Arn"]}


def test_log_and_key_permissions_are_scoped_to_the_own_log_group_and_the_key(raw):
    (key_id,) = resources(raw, "AWS::KMS::Key")
    for prefix, log_prefix in (("CreateOrderRole", "CreateOrderLogGroup"), ("ProcessOrderRole", "ProcessOrderLogGroup")):
        statements = statements_of(raw, prefix)
        logs = next(s for s in statements if "logs:PutLogEvents" in as_list(s["Action"]))
        assert logs["Resource"]["Fn::GetAtt"][0].startswith(log_prefix)
        kms = next(s for s in statements if "kms:Decrypt" in as_list(s["Action"]))
        assert kms["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]}

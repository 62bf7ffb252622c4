"""Turning a function's HTTP request into what IAM authorizes: each request is built and signed by
boto3 itself and captured before it is sent, so the wire forms are the ones botocore 1.44 uses."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from moto import mock_aws
from moto.dynamodbstreams.models import dynamodbstreams_backends

from orders_lib.sandbox.iam.requests import AuthRequest, authorization_requests

ACCOUNT = "123456789012"
REGION = "us-east-1"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"
STREAM = f"{TABLE}/stream/2026-11-27T05:53:27.448488"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:order-notifications"
QUEUE_URL = f"http://localhost:4566/{ACCOUNT}/order-dlq"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:order-dlq"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"
GROUP = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/process-order"
FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:process-order"


class _Captured(Exception):
    """Raised by the before-send hook so that nothing leaves the process."""


def client(service: str, region: str = REGION) -> Any:
    return boto3.client(
        service,
        endpoint_url="http://localhost:4566",
        region_name=region,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
    )


def authorize(service: str, operation: str, *, region: str = REGION, **params: Any) -> list[AuthRequest]:
    """Send ``operation`` through a real boto3 client, capture the signed request, and map it."""
    seen: dict[str, Any] = {}

    def capture(request: Any, **_: Any) -> None:
        seen["request"] = request
        raise _Captured

    aws = client(service, region)
    aws.meta.events.register("before-send.*", capture)
    with pytest.raises(_Captured):
        getattr(aws, operation)(**params)
    request = seen["request"]
    url = urlsplit(request.url)
    headers = {key: value.decode() if isinstance(value, bytes) else value for key, value in request.headers.items()}
    body = request.body.encode() if isinstance(request.body, str) else (request.body or b"")
    return authorization_requests(request.method, url.path, url.query, headers, body, account=ACCOUNT, region="eu-west-1")


def pairs(requests: list[AuthRequest]) -> list[tuple[str | None, str | None, str | None, str]]:
    return [(r.service, r.operation, r.action, r.resource) for r in requests]


# DynamoDB ---------------------------------------------------------------------------------------

KEY_ATTRS = {"orderId": {"S": "O-1"}}


@pytest.mark.parametrize(
    ("operation", "params", "expected_operation"),
    [
        ("get_item", {"TableName": "orders", "Key": KEY_ATTRS}, "GetItem"),
        ("put_item", {"TableName": "orders", "Item": KEY_ATTRS}, "PutItem"),
        (
            "update_item",
            {"TableName": "orders", "Key": KEY_ATTRS, "UpdateExpression": "SET a = :a", "ExpressionAttributeValues": {":a": {"S": "x"}}},
            "UpdateItem",
        ),
        ("delete_item", {"TableName": "orders", "Key": KEY_ATTRS}, "DeleteItem"),
        (
            "query",
            {"TableName": "orders", "KeyConditionExpression": "orderId = :o", "ExpressionAttributeValues": {":o": {"S": "O-1"}}},
            "Query",
        ),
        ("scan", {"TableName": "orders"}, "Scan"),
        ("describe_table", {"TableName": "orders"}, "DescribeTable"),
    ],
)
def test_dynamodb_item_and_table_calls_are_authorized_on_the_table(operation, params, expected_operation):
    assert pairs(authorize("dynamodb", operation, **params)) == [("dynamodb", expected_operation, f"dynamodb:{expected_operation}", TABLE)]


@pytest.mark.parametrize(("operation", "expected"), [("query", "Query"), ("scan", "Scan")])
def test_dynamodb_query_or_scan_on_an_index_is_authorized_on_the_index(operation, expected):
    params: dict[str, Any] = {"TableName": "orders", "IndexName": "by-status"}
    if operation == "query":
        params |= {"KeyConditionExpression": "s = :s", "ExpressionAttributeValues": {":s": {"S": "NEW"}}}
    assert pairs(authorize("dynamodb", operation, **params)) == [("dynamodb", expected, f"dynamodb:{expected}", f"{TABLE}/index/by-status")]


def test_dynamodb_list_tables_is_authorized_on_any_resource():
    assert pairs(authorize("dynamodb", "list_tables")) == [("dynamodb", "ListTables", "dynamodb:ListTables", "*")]


def test_dynamodb_table_given_as_an_arn_is_kept_whole():
    other = "arn:aws:dynamodb:eu-west-1:999999999999:table/audit"
    assert authorize("dynamodb", "get_item", TableName=other, Key=KEY_ATTRS)[0].resource == other


def test_batch_write_across_two_tables_needs_batch_write_on_each_table():
    requests = authorize(
        "dynamodb",
        "batch_write_item",
        RequestItems={
            "orders": [{"PutRequest": {"Item": KEY_ATTRS}}],
            "audit": [{"DeleteRequest": {"Key": KEY_ATTRS}}],
        },
    )
    assert sorted(pairs(requests)) == [
        ("dynamodb", "BatchWriteItem", "dynamodb:BatchWriteItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/audit"),
        ("dynamodb", "BatchWriteItem", "dynamodb:BatchWriteItem", TABLE),
    ]


def test_batch_get_needs_batch_get_on_each_table():
    requests = authorize(
        "dynamodb",
        "batch_get_item",
        RequestItems={
            "orders": {"Keys": [KEY_ATTRS]},
            "audit": {"Keys": [KEY_ATTRS]},
        },
    )
    assert sorted(pairs(requests)) == [
        ("dynamodb", "BatchGetItem", "dynamodb:BatchGetItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/audit"),
        ("dynamodb", "BatchGetItem", "dynamodb:BatchGetItem", TABLE),
    ]


def test_transact_write_with_a_put_and_an_update_needs_put_item_and_update_item():
    requests = authorize(
        "dynamodb",
        "transact_write_items",
        TransactItems=[
            {"Put": {"TableName": "orders", "Item": KEY_ATTRS}},
            {
                "Update": {
                    "TableName": "audit",
                    "Key": KEY_ATTRS,
                    "UpdateExpression": "SET a = :a",
                    "ExpressionAttributeValues": {":a": {"S": "x"}},
                }
            },
        ],
    )
    assert pairs(requests) == [
        ("dynamodb", "TransactWriteItems", "dynamodb:PutItem", TABLE),
        ("dynamodb", "TransactWriteItems", "dynamodb:UpdateItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/audit"),
    ]


def test_transact_get_needs_get_item_on_each_table():
    requests = authorize(
        "dynamodb",
        "transact_get_items",
        TransactItems=[
            {"Get": {"TableName": "orders", "Key": KEY_ATTRS}},
        ],
    )
    assert pairs(requests) == [("dynamodb", "TransactGetItems", "dynamodb:GetItem", TABLE)]


def test_region_comes_from_the_credential_scope_not_the_fallback():
    requests = authorize("dynamodb", "get_item", region="ap-southeast-2", TableName="orders", Key=KEY_ATTRS)
    assert requests[0].resource == f"arn:aws:dynamodb:ap-southeast-2:{ACCOUNT}:table/orders"


# DynamoDB Streams -------------------------------------------------------------------------------


def test_streams_calls_are_told_apart_from_dynamodb_although_signed_as_dynamodb():
    assert pairs(authorize("dynamodbstreams", "describe_stream", StreamArn=STREAM)) == [
        ("dynamodbstreams", "DescribeStream", "dynamodb:DescribeStream", STREAM)
    ]
    assert pairs(
        authorize(
            "dynamodbstreams",
            "get_shard_iterator",
            StreamArn=STREAM,
            ShardId="shardId-00000001764222807448-7f3c1a2b",
            ShardIteratorType="TRIM_HORIZON",
        )
    ) == [("dynamodbstreams", "GetShardIterator", "dynamodb:GetShardIterator", STREAM)]
    assert pairs(authorize("dynamodbstreams", "list_streams")) == [("dynamodbstreams", "ListStreams", "dynamodb:ListStreams", "*")]


def _moto_shard_iterator() -> tuple[str, str]:
    """An iterator as moto's GetShardIterator mints it. Taken from moto's backend: in-process
    mock_aws does not route the dynamodbstreams client in this moto/botocore pair (404)."""
    with mock_aws():
        stream_arn = boto3.client("dynamodb", region_name=REGION).create_table(
            TableName="orders",
            KeySchema=[{"AttributeName": "orderId", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "orderId", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )["TableDescription"]["LatestStreamArn"]
        backend = dynamodbstreams_backends[ACCOUNT][REGION]
        shard = backend.describe_stream(stream_arn)["Shards"][0]["ShardId"]
        iterator = backend.get_shard_iterator(stream_arn, shard, "TRIM_HORIZON").arn
    return stream_arn, iterator


def test_get_records_is_authorized_on_the_stream_named_in_a_moto_iterator():
    stream_arn, iterator = _moto_shard_iterator()
    assert pairs(authorize("dynamodbstreams", "get_records", ShardIterator=iterator)) == [
        ("dynamodbstreams", "GetRecords", "dynamodb:GetRecords", stream_arn)
    ]


def test_get_records_with_an_unreadable_iterator_falls_back_to_any_resource_with_a_caveat():
    [request] = authorize("dynamodbstreams", "get_records", ShardIterator="AAAAopaque-token")
    assert (request.action, request.resource) == ("dynamodb:GetRecords", "*")
    assert request.caveat and "ShardIterator" in request.caveat


# SNS --------------------------------------------------------------------------------------------


def test_sns_publish_is_authorized_on_the_topic():
    assert pairs(authorize("sns", "publish", TopicArn=TOPIC, Message="m")) == [("sns", "Publish", "sns:Publish", TOPIC)]


def test_sns_publish_batch_needs_publish_on_the_topic():
    assert pairs(authorize("sns", "publish_batch", TopicArn=TOPIC, PublishBatchRequestEntries=[{"Id": "1", "Message": "m"}])) == [
        ("sns", "PublishBatch", "sns:Publish", TOPIC)
    ]


# SQS --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "params", "expected_operation", "expected_action"),
    [
        ("send_message", {"MessageBody": "x"}, "SendMessage", "sqs:SendMessage"),
        ("send_message_batch", {"Entries": [{"Id": "1", "MessageBody": "x"}]}, "SendMessageBatch", "sqs:SendMessage"),
        ("receive_message", {}, "ReceiveMessage", "sqs:ReceiveMessage"),
        ("delete_message", {"ReceiptHandle": "r"}, "DeleteMessage", "sqs:DeleteMessage"),
        ("get_queue_attributes", {"AttributeNames": ["All"]}, "GetQueueAttributes", "sqs:GetQueueAttributes"),
    ],
)
def test_sqs_calls_are_authorized_on_the_queue_of_the_url(operation, params, expected_operation, expected_action):
    assert pairs(authorize("sqs", operation, QueueUrl=QUEUE_URL, **params)) == [("sqs", expected_operation, expected_action, QUEUE)]


def test_sqs_queue_arn_takes_the_account_from_the_url_whatever_its_host():
    url = "https://sqs.us-east-1.amazonaws.com/210987654321/elsewhere"
    assert authorize("sqs", "send_message", QueueUrl=url, MessageBody="x")[0].resource == (f"arn:aws:sqs:{REGION}:210987654321:elsewhere")


def test_sqs_get_queue_url_is_authorized_on_the_named_queue():
    assert pairs(authorize("sqs", "get_queue_url", QueueName="order-dlq")) == [("sqs", "GetQueueUrl", "sqs:GetQueueUrl", QUEUE)]


def test_sqs_query_protocol_form_is_read_too():
    # botocore 1.44 sends SQS as JSON only, so the older query form is written by hand here.
    body = f"Action=SendMessage&Version=2012-11-05&QueueUrl={QUEUE_URL}&MessageBody=x".encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        "Authorization": f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261127/{REGION}/sqs/aws4_request, SignedHeaders=host, Signature=0",
    }
    requests = authorization_requests("POST", "/", "", headers, body, account=ACCOUNT, region=REGION)
    assert pairs(requests) == [("sqs", "SendMessage", "sqs:SendMessage", QUEUE)]


# KMS --------------------------------------------------------------------------------------------


def test_kms_decrypt_with_a_key_arn_is_authorized_on_that_key():
    assert pairs(authorize("kms", "decrypt", KeyId=KEY, CiphertextBlob=b"blob")) == [("kms", "Decrypt", "kms:Decrypt", KEY)]


@pytest.mark.parametrize(
    ("operation", "params", "expected"),
    [
        ("encrypt", {"Plaintext": b"p"}, "Encrypt"),
        ("generate_data_key", {"KeySpec": "AES_256"}, "GenerateDataKey"),
        ("describe_key", {}, "DescribeKey"),
    ],
)
def test_kms_key_id_becomes_the_key_arn_in_the_callers_account(operation, params, expected):
    assert pairs(authorize("kms", operation, KeyId=KEY_ID, **params)) == [("kms", expected, f"kms:{expected}", KEY)]


def test_kms_alias_is_returned_as_an_alias_arn_and_marked_for_lookup():
    [request] = authorize("kms", "encrypt", KeyId="alias/orders", Plaintext=b"p")
    assert (request.action, request.resource) == ("kms:Encrypt", f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/orders")
    assert request.caveat and "alias" in request.caveat


def test_kms_decrypt_without_key_id_reads_the_key_from_moto_ciphertext():
    with mock_aws():
        kms = boto3.client("kms", region_name=REGION)
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        blob = kms.encrypt(KeyId=key_id, Plaintext=b"secret")["CiphertextBlob"]
    assert pairs(authorize("kms", "decrypt", CiphertextBlob=blob)) == [
        ("kms", "Decrypt", "kms:Decrypt", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}")
    ]


# CloudWatch Logs --------------------------------------------------------------------------------

STREAM_NAME = "2026/11/27/[$LATEST]abc"


def test_put_log_events_is_authorized_on_the_log_stream():
    assert pairs(
        authorize(
            "logs",
            "put_log_events",
            logGroupName="/aws/lambda/process-order",
            logStreamName=STREAM_NAME,
            logEvents=[{"timestamp": 1, "message": "m"}],
        )
    ) == [("logs", "PutLogEvents", "logs:PutLogEvents", f"{GROUP}:log-stream:{STREAM_NAME}")]


@pytest.mark.parametrize(
    ("operation", "params", "expected_operation", "expected_resource"),
    [
        ("create_log_stream", {"logStreamName": STREAM_NAME}, "CreateLogStream", f"{GROUP}:log-stream:{STREAM_NAME}"),
        ("get_log_events", {"logStreamName": STREAM_NAME}, "GetLogEvents", f"{GROUP}:log-stream:{STREAM_NAME}"),
        ("create_log_group", {}, "CreateLogGroup", GROUP),
        ("filter_log_events", {}, "FilterLogEvents", GROUP),
    ],
)
def test_logs_calls_are_authorized_on_their_group_or_stream(operation, params, expected_operation, expected_resource):
    assert pairs(authorize("logs", operation, logGroupName="/aws/lambda/process-order", **params)) == [
        ("logs", expected_operation, f"logs:{expected_operation}", expected_resource)
    ]


# Lambda -----------------------------------------------------------------------------------------


def test_invoke_by_name_needs_invoke_function_on_the_function():
    assert pairs(authorize("lambda", "invoke", FunctionName="process-order")) == [("lambda", "Invoke", "lambda:InvokeFunction", FUNCTION)]


def test_invoke_by_arn_with_a_qualifier_is_authorized_on_the_qualified_arn():
    other = "arn:aws:lambda:eu-west-1:210987654321:function:notify"
    assert pairs(authorize("lambda", "invoke", FunctionName=other, Qualifier="live")) == [
        ("lambda", "Invoke", "lambda:InvokeFunction", f"{other}:live")
    ]


# No permission, unknown input -------------------------------------------------------------------


def test_get_caller_identity_needs_no_authorization():
    assert authorize("sts", "get_caller_identity") == []


def test_unknown_service_yields_one_request_on_any_resource_without_an_action():
    [request] = authorize("ec2", "describe_instances")
    assert (request.service, request.operation, request.action, request.resource) == ("ec2", "DescribeInstances", None, "*")
    assert request.caveat


def test_unreadable_request_yields_one_request_and_does_not_raise():
    [request] = authorization_requests("PUT", "/nowhere", "", {"X-Amz-Target": "Mystery."}, b"\xff\x00", account=ACCOUNT, region=REGION)
    assert (request.operation, request.action, request.resource) == (None, None, "*")

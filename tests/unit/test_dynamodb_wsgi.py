"""DynamoDB calls answered by moto's handler directly, exactly as moto's Flask app answers them."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from moto import mock_aws
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from orders_lib.sandbox.dynamodb.wsgi import DirectDynamoDB, is_direct

AUTH = (
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261130/eu-west-1/dynamodb/aws4_request, "
    "SignedHeaders=host;x-amz-date;x-amz-target, Signature=00"
)
TABLE = {
    "TableName": "t",
    "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}
VARYING = {"x-amzn-requestid", "date"}


def _environ(operation: str, body: Any, **extra: str) -> dict[str, Any]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "4566",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/x-amz-json-1.0",
        "CONTENT_LENGTH": str(len(raw)),
        "HTTP_HOST": "127.0.0.1:4566",
        "HTTP_X_AMZ_TARGET": f"DynamoDB_20120810.{operation}",
        "HTTP_AUTHORIZATION": AUTH,
        "wsgi.input": io.BytesIO(raw),
        "wsgi.url_scheme": "http",
    }
    environ.update(extra)
    return environ


def _call(app: Any, environ: dict[str, Any]) -> tuple[str, dict[str, str], Any]:
    started: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        started["status"], started["headers"] = status, headers

    body = b"".join(app(environ, start_response))
    headers = {name.lower(): value for name, value in started["headers"] if name.lower() not in VARYING}
    return started["status"], headers, json.loads(body) if body.startswith(b"{") else body


# Each request runs on a fresh table through both apps, so both see the same state.
CASES = [
    ("PutItem", {"TableName": "t", "Item": {"k": {"S": "a"}, "n": {"N": "1"}}}),
    ("GetItem", {"TableName": "t", "Key": {"k": {"S": "seeded"}}, "ConsistentRead": True}),
    (
        "UpdateItem",
        {
            "TableName": "t",
            "Key": {"k": {"S": "seeded"}},
            "UpdateExpression": "SET n = :n",
            "ConditionExpression": "attribute_not_exists(k)",
            "ExpressionAttributeValues": {":n": {"N": "2"}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        },
    ),
    ("UpdateItem", {"TableName": "t", "Key": {"k": {"S": "seeded"}}, "UpdateExpression": "SET = broken"}),
    ("GetItem", {"TableName": "missing", "Key": {"k": {"S": "a"}}}),
    ("BatchGetItem", {"RequestItems": {"t": {"Keys": [{"k": {"S": "seeded"}}, {"k": {"S": "none"}}]}}}),
    ("DescribeTable", {"TableName": "t"}),
    ("NoSuchOperation", {}),
    ("PutItem", b"{not json"),
]


@pytest.mark.parametrize(("operation", "body"), CASES, ids=[f"{n}-{op}" for n, (op, _) in enumerate(CASES)])
def test_answers_as_motos_app_answers(operation, body):
    replies = []
    for direct in (False, True):
        with mock_aws():
            moto_app = DomainDispatcherApplication(create_backend_app)
            app = DirectDynamoDB(moto_app) if direct else moto_app
            _call(moto_app, _environ("CreateTable", TABLE))
            _call(moto_app, _environ("PutItem", {"TableName": "t", "Item": {"k": {"S": "seeded"}, "n": {"N": "1"}}}))
            try:
                replies.append(_call(app, _environ(operation, body)))
            except Exception as error:  # noqa: BLE001 - compared: both apps must fail alike
                replies.append(("raised", {}, type(error).__name__))
    (moto_status, moto_headers, moto_body), (status, headers, reply) = replies
    if operation == "DescribeTable":  # a creation time each run, its digits (and so the length and checksum) vary
        for table in (moto_body, reply):
            table["Table"].pop("CreationDateTime")
        for varying in (moto_headers, headers):
            varying.pop("x-amz-crc32"), varying.pop("content-length")
    assert (status, headers, reply) == (moto_status, moto_headers, moto_body)


def test_only_plain_dynamodb_calls_take_the_direct_path():
    assert is_direct(_environ("PutItem", {}))
    assert not is_direct(_environ("PutItem", {}, HTTP_ORIGIN="http://localhost:8888"))
    assert not is_direct(_environ("PutItem", {}, REQUEST_METHOD="OPTIONS"))
    assert not is_direct(_environ("GetRecords", {}, HTTP_X_AMZ_TARGET="DynamoDBStreams_20120810.GetRecords"))
    assert not is_direct({**_environ("PutItem", {}), "HTTP_X_AMZ_TARGET": ""})

    seen = []
    app = DirectDynamoDB(lambda environ, start_response: seen.append(environ["HTTP_X_AMZ_TARGET"]) or [b""])
    _call_quietly = list(app(_environ("GetRecords", {}, HTTP_X_AMZ_TARGET="DynamoDBStreams_20120810.GetRecords"), lambda *a: None))
    assert seen == ["DynamoDBStreams_20120810.GetRecords"] and _call_quietly == [b""]

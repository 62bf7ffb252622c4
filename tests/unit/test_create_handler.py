import json

import pytest

from .conftest import valid_request
from .events import api_gateway_event, function_url_event


def call(handler, event, context):
    response = handler(event, context)
    return response["statusCode"], json.loads(response["body"])


def count(dynamodb):
    return dynamodb.scan(TableName="techtest-orders", Select="COUNT")["Count"]


def test_direct_invoke_creates_then_repeats(create_handler, context, dynamodb):
    status, body = call(create_handler, valid_request(idempotencyKey="abc"), context)
    assert status == 201 and body["created"] is True
    assert body["order"]["status"] == "NEW" and body["order"]["total"] == "12.75"
    assert "requestHash" not in body["order"]
    again, repeat = call(create_handler, valid_request(idempotencyKey="abc"), context)
    assert again == 200 and repeat["order"] == body["order"] and repeat["created"] is False
    assert count(dynamodb) == 1


def test_direct_invoke_with_floats_as_the_lambda_runtime_parses_them(create_handler, context):
    request = valid_request(items=[{"sku": "A", "name": "Pen", "quantity": 2.0, "unitPrice": 0.1}])
    status, body = call(create_handler, request, context)
    assert status == 201 and body["order"]["total"] == "0.20"


@pytest.mark.parametrize("make_event", [api_gateway_event, function_url_event])
def test_proxy_events_carry_json_in_the_body(create_handler, context, make_event):
    status, body = call(create_handler, make_event(json.dumps(valid_request())), context)
    assert status == 201 and body["order"]["currency"] == "EUR"


def test_base64_encoded_body(create_handler, context):
    status, _ = call(create_handler, api_gateway_event(json.dumps(valid_request()), base64_encoded=True), context)
    assert status == 201


def test_invalid_request_lists_every_field_and_writes_nothing(create_handler, context, dynamodb):
    request = valid_request(currency="ZZZ", customer={"customerId": "C-1", "name": "", "email": "x"})
    status, body = call(create_handler, api_gateway_event(json.dumps(request)), context)
    assert status == 400
    assert {e["field"] for e in body["errors"]} == {"currency", "customer.name", "customer.email"}
    assert count(dynamodb) == 0


@pytest.mark.parametrize(
    "event",
    [
        api_gateway_event("{broken"),
        api_gateway_event(""),
        api_gateway_event(None),
        api_gateway_event("x" * 70_000),
        api_gateway_event('{"customer": 1}', base64_encoded=False) | {"isBase64Encoded": True},
        {"body": {"not": "a string"}},
        "a string event",
        ["a", "list"],
        valid_request(items=[{"sku": "A", "name": "n" * 60_000, "quantity": 1, "unitPrice": "1"}] * 2),
    ],
    ids=["malformed", "empty", "null", "huge", "bad-base64", "body-object", "string", "list", "huge-direct"],
)
def test_hostile_events_get_400_and_no_write(create_handler, context, dynamodb, event):
    status, body = call(create_handler, event, context)
    assert status == 400 and body["errors"]
    assert count(dynamodb) == 0


def test_idempotency_key_reuse_is_409(create_handler, context):
    call(create_handler, valid_request(idempotencyKey="same"), context)
    status, body = call(create_handler, valid_request(idempotencyKey="same", currency="USD"), context)
    assert status == 409 and body["errors"][0]["field"] == "idempotencyKey"

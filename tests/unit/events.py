"""Events in the exact shapes AWS documents for Lambda."""

from __future__ import annotations

import base64
import itertools
import json

from orders_lib.aws.repository import to_attribute_map

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/techtest-orders/stream/2026-11-26T12:00:00.000"
_sequence = itertools.count(100000000000000000001)


def stream_record(event_name, new=None, old=None, keys=None, sequence=None, raw_new=None):
    """One DynamoDB stream record as Lambda delivers it (NEW_AND_OLD_IMAGES).

    ``new``/``old`` are plain items; ``raw_new`` is an attribute-value map used as is.
    """
    source = new or old or {}
    data = {
        "ApproximateCreationDateTime": 1795694400,
        "Keys": keys if keys is not None else {"orderId": {"S": str(source.get("orderId", "missing"))}},
        "SequenceNumber": str(sequence or next(_sequence)),
        "SizeBytes": 512,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        data["NewImage"] = to_attribute_map(new)
    if raw_new is not None:
        data["NewImage"] = raw_new
    if old is not None:
        data["OldImage"] = to_attribute_map(old)
    return {
        "eventID": f"e{data['SequenceNumber'][-6:]}",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": data,
        "eventSourceARN": STREAM_ARN,
    }


def stream_event(*records):
    return {"Records": list(records)}


def api_gateway_event(body, *, base64_encoded=False):
    """API Gateway REST (v1) proxy event."""
    if base64_encoded:
        body = base64.b64encode(body if isinstance(body, bytes) else body.encode()).decode()
    return {
        "resource": "/orders",
        "path": "/orders",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {"resourcePath": "/orders", "httpMethod": "POST", "stage": "prod", "requestId": "r-1"},
        "body": body,
        "isBase64Encoded": base64_encoded,
    }


def function_url_event(body):
    """Lambda Function URL / HTTP API (payload v2.0) event."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {"http": {"method": "POST", "path": "/"}, "requestId": "r-2", "timeEpoch": 1795694400000},
        "body": body if isinstance(body, str) else json.dumps(body),
        "isBase64Encoded": False,
    }

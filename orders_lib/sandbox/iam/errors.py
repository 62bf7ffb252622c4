"""The error code and HTTP status each service returns when IAM denies a call, so a denied call
in the sandbox raises the same botocore ``ClientError`` code the function would see on AWS.

JSON-protocol services answer ``AccessDeniedException`` (Lambda with 403, the others with 400);
query/XML services answer ``AccessDenied`` with 403, except SNS, which has its own
``AuthorizationError``. Each row names where it was checked: the service's error page or
botocore's service model, or, where AWS documents only the generic "Common Errors" table, the
code and status the SDKs report for real identity-policy denials.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from xml.sax.saxutils import escape

_DENIALS: dict[str, tuple[str, int]] = {
    # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html (HTTP 400 group)
    "dynamodb": ("AccessDeniedException", 400),
    # same JSON 1.0 endpoint family as DynamoDB; assumed identical, no separate page
    "dynamodbstreams": ("AccessDeniedException", 400),
    # SDK reports: "Service: Kms, Status Code: 400, ... AccessDeniedException"
    "kms": ("AccessDeniedException", 400),
    # SDK reports: "Service: AWSLogs; Status Code: 400; Error Code: AccessDeniedException"
    "logs": ("AccessDeniedException", 400),
    # SDK reports: "Service: AWSSimpleSystemsManagement; Status Code: 400; Error Code: AccessDeniedException"
    "ssm": ("AccessDeniedException", 400),
    # SDK reports: "Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException"
    "lambda": ("AccessDeniedException", 403),
    # botocore sns service model: AuthorizationErrorException code AuthorizationError, httpStatusCode 403
    "sns": ("AuthorizationError", 403),
    # SDK reports: "Status Code: 403; Error Code: AccessDenied" (code kept by the JSON protocol's query compatibility)
    "sqs": ("AccessDenied", 403),
    # botocore s3 service model: AccessDenied, httpStatusCode 403
    "s3": ("AccessDenied", 403),
    # SDK reports: "Service: AWSSecurityTokenService; Status Code: 403; Error Code: AccessDenied"
    "sts": ("AccessDenied", 403),
    # SDK reports: "IAM: CreateRole, https response error StatusCode: 403 ... api error AccessDenied"
    "iam": ("AccessDenied", 403),
    # SDK reports: "CloudFormation: ListStacks, https response error StatusCode: 403 ... api error AccessDenied"
    "cloudformation": ("AccessDenied", 403),
}


def denial(service: str) -> tuple[str, int]:
    """(error code, HTTP status) for an IAM denial by botocore service ``service``."""
    try:
        return _DENIALS[service]
    except KeyError:
        known = ", ".join(sorted(_DENIALS))
        raise ValueError(f"no denial shape known for service {service!r}; known: {known}") from None


_JSON_TYPES = {
    # DynamoDB names its errors with the service's namespace; botocore keeps what follows the '#'.
    "dynamodb": "com.amazonaws.dynamodb.v20120810#AccessDeniedException",
    "dynamodbstreams": "com.amazonaws.dynamodb.v20120810#AccessDeniedException",
    # SQS's JSON protocol names the error generically and gives the query-era code in a header
    # (x-amzn-query-error), which botocore reports for query-compatible services.
    "sqs": "com.amazon.coral.service#AccessDeniedException",
}


def denial_response(service: str, message: str, headers: Mapping[str, str], path: str = "/") -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) of an IAM denial in the request's own protocol: JSON when the request
    named an ``X-Amz-Target``, rest-json for Lambda, the query protocol's XML otherwise."""
    lowered = {key.lower() for key in headers}
    # A service without a row answers as most do in its protocol family.
    code, status = _DENIALS.get(service, ("AccessDeniedException", 400) if "x-amz-target" in lowered else ("AccessDenied", 403))
    request_id = str(uuid.uuid4())
    if "x-amz-target" in lowered:
        body = json.dumps({"__type": _JSON_TYPES.get(service, code), "message": message}).encode()
        extra = [("x-amzn-query-error", f"{code};Sender")] if service == "sqs" else []
        return status, [("content-type", "application/x-amz-json-1.0"), ("x-amzn-requestid", request_id), *extra], body
    if service == "lambda":
        body = json.dumps({"Type": "User", "Message": message}).encode()
        return status, [("content-type", "application/json"), ("x-amzn-errortype", code), ("x-amzn-requestid", request_id)], body
    body = (
        "<ErrorResponse><Error><Type>Sender</Type>"
        f"<Code>{code}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()
    return status, [("content-type", "text/xml"), ("x-amzn-requestid", request_id)], body

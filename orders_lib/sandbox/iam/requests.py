"""What IAM authorizes for one HTTP request a function sends to the sandbox: the service, the API
operation, the action and the resource ARN(s), read from the wire form botocore 1.44 sends.

Protocols (botocore ``data/<service>/*/service-2.json``, ``metadata.protocol``): JSON with
``X-Amz-Target: <prefix>.<Operation>`` for DynamoDB, DynamoDB Streams, SQS, KMS and Logs; query
(form-encoded ``Action=...``) for SNS and STS, and for SQS's older query form; rest-json for Lambda.
The service comes from the SigV4 credential scope (``Credential=AKID/DATE/REGION/SERVICE/...``),
except DynamoDB Streams, which botocore signs as ``dynamodb`` and which the target prefix tells apart.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv4-create-signed-request.html

Never raises on unknown input: a request it cannot read yields one ``AuthRequest`` with what it
found (``None`` for an unknown service, operation or action) and resource ``"*"``, with a
``caveat`` saying why; the caller decides whether to allow, deny or log it. An empty list means
nothing needs authorizing (``sts:GetCallerIdentity``, see ``requires_authorization``).
ARN shapes follow the "Resource types defined by ..." tables of the Service Authorization Reference:
https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from orders_lib.sandbox.iam.actions import (
    NotASingleAction,
    UnknownService,
    iam_action,
    requires_authorization,
    transact_actions,
)


@dataclass(frozen=True)
class AuthRequest:
    """One (action, resource) pair to evaluate. ``caveat`` is set when the resource is not exactly
    the one AWS would authorize, or when something could not be read, and says what to do."""

    service: str | None
    operation: str | None
    action: str | None
    resource: str
    caveat: str | None = None


@dataclass(frozen=True)
class _Call:
    service: str
    operation: str
    params: Mapping[str, Any]
    path: str
    account: str
    region: str

    def one(self, resource: str, caveat: str | None = None) -> list[AuthRequest]:
        action, why = _action(self.service, self.operation)
        return [AuthRequest(self.service, self.operation, action, resource, caveat or why)]

    def text(self, name: str) -> str | None:
        value = self.params.get(name)
        return value if isinstance(value, str) and value else None


_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/(?P<region>[^/,\s]+)/(?P<service>[^/,\s]+)/aws4_request")
# X-Amz-Target prefix -> botocore service name
_TARGETS = {
    "DynamoDB_20120810": "dynamodb",
    "DynamoDBStreams_20120810": "dynamodbstreams",
    "AmazonSQS": "sqs",
    "TrentService": "kms",
    "Logs_20140328": "logs",
}
# rest-json routes: (method, path pattern) -> operation; FunctionName is the first group.
# https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
_LAMBDA_ROUTES = [
    ("POST", re.compile(r"^/2015-03-31/functions/([^/]+)/invocations/?$"), "Invoke"),
    ("POST", re.compile(r"^/2021-11-15/functions/([^/]+)/response-streaming-invocations/?$"), "InvokeWithResponseStream"),
    ("GET", re.compile(r"^/2015-03-31/functions/([^/]+)/configuration/?$"), "GetFunctionConfiguration"),
    ("GET", re.compile(r"^/2015-03-31/functions/([^/]+)/?$"), "GetFunction"),
    ("GET", re.compile(r"^/2015-03-31/functions/?$"), "ListFunctions"),
]
_ALIAS_CAVEAT = "alias: AWS authorizes the key it points to; resolve the alias and authorize that key's ARN"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_STREAM_ARN = re.compile(r"^arn:[^:]+:dynamodb:[^:]*:[^:]*:table/[^/]+/stream/[^|]+$")


def authorization_requests(
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    account: str,
    region: str,
) -> list[AuthRequest]:
    """The (action, resource) pairs AWS would check for this request, all of which must be allowed.

    ``account`` is the caller's account (resources named without an ARN live there); ``region``
    is used when the request carries no credential scope.
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    scope = _SCOPE.search(lowered.get("authorization", ""))
    service = scope.group("service") if scope else None
    region = scope.group("region") if scope else region
    operation: str | None = None
    params: Mapping[str, Any] = {}
    prefix, dot, target_operation = lowered.get("x-amz-target", "").partition(".")
    if dot:
        service = _TARGETS.get(prefix, service)
        operation = target_operation or None
        params = _json(body)
    elif service == "lambda" or (service is None and _lambda_route(method, path, query)[0]):
        service = "lambda"
        operation, params = _lambda_route(method, path, query)
    else:
        params = _form(query, body)
        operation = params.get("Action") or None

    if service is None or operation is None:
        return [AuthRequest(service, operation, None, "*", "service or operation not recognized in this request")]
    try:
        if not requires_authorization(service, operation):
            return []
    except UnknownService as error:
        return [AuthRequest(service, operation, None, "*", str(error))]
    resolve = _RESOLVERS.get(service)
    call = _Call(service, operation, params, path, account, region)
    if resolve is None:
        return call.one("*", f"resources of {service} are not modelled; '*' stands for any resource")
    return resolve(call)


def _dynamodb(call: _Call) -> list[AuthRequest]:
    """Table ``arn:aws:dynamodb:{region}:{account}:table/{TableName}``, index ``.../index/{IndexName}``.
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html
    Transactions are authorized item by item (``transact_actions``)."""
    if call.operation in ("BatchGetItem", "BatchWriteItem"):
        items = call.params.get("RequestItems")
        if not isinstance(items, Mapping) or not items:
            return call.one("*", "RequestItems missing: no table to authorize")
        return [request for table in items for request in call.one(_table_arn(call, table))]
    if call.operation in ("TransactWriteItems", "TransactGetItems"):
        try:
            pairs = transact_actions(call.params)
        except ValueError as error:
            return [AuthRequest(call.service, call.operation, None, "*", str(error))]
        return [AuthRequest(call.service, call.operation, action, _table_arn(call, table)) for action, table in pairs]
    table = call.text("TableName")
    if table is None:
        return call.one("*")
    index = call.text("IndexName")
    if index and call.operation in ("Query", "Scan"):
        return call.one(f"{_table_arn(call, table)}/index/{index}")
    return call.one(_table_arn(call, table))


def _dynamodb_streams(call: _Call) -> list[AuthRequest]:
    """Stream ``arn:aws:dynamodb:{region}:{account}:table/{TableName}/stream/{StreamLabel}``.
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html

    GetRecords names only a ShardIterator, opaque to botocore; moto's iterators (and those shown in
    AWS's GetShardIterator examples) are ``<StreamArn>|1|<token>``, so the stream ARN is the part
    before the first ``|``. Any other iterator yields resource ``"*"`` with a caveat."""
    arn = call.text("StreamArn")
    if arn:
        return call.one(arn)
    iterator = call.text("ShardIterator")
    if iterator is not None:
        stream = iterator.split("|", 1)[0]
        if _STREAM_ARN.match(stream):
            return call.one(stream)
        return call.one("*", "the stream ARN could not be read from this ShardIterator")
    return call.one("*")


def _sns(call: _Call) -> list[AuthRequest]:
    """Topic ``arn:aws:sns:{region}:{account}:{TopicName}``, given whole as TopicArn (or TargetArn).
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html"""
    arn = call.text("TopicArn") or call.text("TargetArn")
    return call.one(arn) if arn else call.one("*")


def _sqs(call: _Call) -> list[AuthRequest]:
    """Queue ``arn:aws:sqs:{region}:{account}:{QueueName}``, the account and name being the path of
    the QueueUrl whatever its host (the query form may post to the queue URL itself).
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsqs.html"""
    url_path = urlsplit(call.text("QueueUrl") or "").path or call.path
    parts = [unquote(part) for part in url_path.strip("/").split("/")]
    if len(parts) == 2 and all(parts):
        return call.one(f"arn:aws:sqs:{call.region}:{parts[0]}:{parts[1]}")
    name = call.text("QueueName")
    if name:
        owner = call.text("QueueOwnerAWSAccountId") or call.account
        return call.one(f"arn:aws:sqs:{call.region}:{owner}:{name}")
    return call.one("*")


def _kms(call: _Call) -> list[AuthRequest]:
    """Key ``arn:aws:kms:{region}:{account}:key/{KeyId}``.
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html

    An alias (``alias/x`` or its ARN) is returned as ``arn:aws:kms:{region}:{account}:alias/x`` with
    a caveat: AWS authorizes cryptographic operations against the key the alias points to, which
    only a lookup can tell. https://docs.aws.amazon.com/kms/latest/developerguide/alias-authorization.html
    A Decrypt without KeyId names its key in the ciphertext; moto's blobs start with the 36-character
    key id, which is used when present (real KMS ciphertext is opaque)."""
    key = call.text("KeyId")
    if key is None and call.operation == "Decrypt":
        key = _moto_ciphertext_key(call.text("CiphertextBlob"))
    if key is None:
        return call.one("*")
    if not key.startswith("arn:"):
        kind = "" if key.startswith("alias/") else "key/"
        key = f"arn:aws:kms:{call.region}:{call.account}:{kind}{key}"
    if ":alias/" in key:
        return call.one(key, _ALIAS_CAVEAT)
    return call.one(key)


def _logs(call: _Call) -> list[AuthRequest]:
    """Log group ``arn:aws:logs:{region}:{account}:log-group:{name}``, log stream
    ``...:log-group:{name}:log-stream:{stream}``; PutLogEvents, CreateLogStream and GetLogEvents
    require the log-stream resource type, CreateLogGroup and FilterLogEvents the log-group one.
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html"""
    group = call.text("logGroupName") or call.text("logGroupIdentifier")
    if group is None:
        return call.one("*")
    group_arn = group.removesuffix(":*") if group.startswith("arn:") else f"arn:aws:logs:{call.region}:{call.account}:log-group:{group}"
    stream = call.text("logStreamName")
    if stream and call.operation in ("PutLogEvents", "CreateLogStream", "GetLogEvents", "DeleteLogStream"):
        return call.one(f"{group_arn}:log-stream:{stream}")
    return call.one(group_arn)


def _lambda(call: _Call) -> list[AuthRequest]:
    """Function ``arn:aws:lambda:{region}:{account}:function:{name}``, with ``:{Qualifier}`` appended
    when the call names a version or alias; FunctionName may be a name, ``name:qualifier``, a partial
    ARN ``{account}:function:{name}`` or a full ARN.
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html"""
    name = call.text("FunctionName")
    if name is None:
        return call.one("*")
    region, account, qualifier = call.region, call.account, call.text("Qualifier")
    parts = name.split(":")
    if name.startswith("arn:") and len(parts) >= 7:
        region, account, function = parts[3], parts[4], ":".join(parts[6:])
    elif len(parts) >= 3 and parts[1] == "function":
        account, function = parts[0], ":".join(parts[2:])
    else:
        function = name
    if qualifier and ":" not in function:
        function = f"{function}:{qualifier}"
    return call.one(f"arn:aws:lambda:{region}:{account}:function:{function}")


_RESOLVERS: dict[str, Callable[[_Call], list[AuthRequest]]] = {
    "dynamodb": _dynamodb,
    "dynamodbstreams": _dynamodb_streams,
    "sns": _sns,
    "sqs": _sqs,
    "kms": _kms,
    "logs": _logs,
    "lambda": _lambda,
}


def _action(service: str, operation: str) -> tuple[str | None, str | None]:
    try:
        return iam_action(service, operation), None
    except (UnknownService, NotASingleAction) as error:
        return None, str(error)


def _table_arn(call: _Call, table: str) -> str:
    return table if table.startswith("arn:") else f"arn:aws:dynamodb:{call.region}:{call.account}:table/{table}"


def _json(body: bytes) -> Mapping[str, Any]:
    try:
        parsed = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _form(query: str, body: bytes) -> dict[str, str]:
    try:
        text = body.decode("utf-8") if body else ""
    except UnicodeDecodeError:
        text = ""
    return dict(parse_qsl(query) + parse_qsl(text))


def _lambda_route(method: str, path: str, query: str) -> tuple[str | None, dict[str, str]]:
    params = dict(parse_qsl(query))
    for route_method, pattern, operation in _LAMBDA_ROUTES:
        match = pattern.match(path)
        if match and method.upper() == route_method:
            if match.groups():
                params["FunctionName"] = unquote(match.group(1))
            return operation, params
    return None, params


def _moto_ciphertext_key(blob: str | None) -> str | None:
    if blob is None:
        return None
    try:
        key = base64.b64decode(blob, validate=True)[:36].decode("ascii")
    except (binascii.Error, ValueError):
        return None
    return key if _UUID.match(key) else None

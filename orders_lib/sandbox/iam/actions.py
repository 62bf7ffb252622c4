"""Which IAM action authorizes an API call, so the sandbox checks the action AWS checks.

Default: ``<prefix>:<Operation>``. The tables below hold the exceptions for the services the
sandbox hosts, taken from the "API operations defined by ..." tables of the Service
Authorization Reference (one page per service, e.g. list_sns.html, list_sqs.html,
list_dynamodb.html, list_lambda.html, list_s3.html, list_kms.html); only the primary action of
each operation is kept (the extra ``TagResource``/``iam:PassRole`` rows are conditional).
Source: https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html

Operations that one action cannot authorize raise :class:`NotASingleAction` instead of
returning a guess. ``TransactWriteItems`` is authorized item by item: the caller must check
``dynamodb:PutItem``/``UpdateItem``/``DeleteItem``/``ConditionCheckItem`` on each item's table
(``TransactGetItems``: ``dynamodb:GetItem``), which :func:`transact_actions` lists.

Not modelled: S3 bucket-configuration operations whose action names differ (``DeleteBucketCors``
-> ``s3:PutBucketCORS`` ...) and the ``*Version`` actions S3 checks when a request names a
VersionId; the sandbox's functions make neither call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# botocore service name -> IAM service prefix
PREFIXES: dict[str, str] = {
    "dynamodb": "dynamodb",
    "dynamodbstreams": "dynamodb",
    "sns": "sns",
    "sqs": "sqs",
    "kms": "kms",
    "logs": "logs",
    "lambda": "lambda",
    "s3": "s3",
    "sts": "sts",
    "ssm": "ssm",
    "cloudformation": "cloudformation",
    "iam": "iam",
}

# (service, operation) -> action name, where it is not the operation's own name.
_RENAMED: dict[tuple[str, str], str] = {
    ("sns", "PublishBatch"): "Publish",
    ("sqs", "SendMessageBatch"): "SendMessage",
    ("sqs", "DeleteMessageBatch"): "DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "ChangeMessageVisibility",
    ("lambda", "Invoke"): "InvokeFunction",
    ("lambda", "InvokeWithResponseStream"): "InvokeFunction",
    ("lambda", "GetLayerVersionByArn"): "GetLayerVersion",
    ("s3", "HeadObject"): "GetObject",
    ("s3", "GetObjectAttributes"): "GetObject",
    ("s3", "SelectObjectContent"): "GetObject",
    ("s3", "CreateMultipartUpload"): "PutObject",
    ("s3", "UploadPart"): "PutObject",
    ("s3", "CompleteMultipartUpload"): "PutObject",
    ("s3", "DeleteObjects"): "DeleteObject",
    ("s3", "HeadBucket"): "ListBucket",
    ("s3", "ListObjects"): "ListBucket",
    ("s3", "ListObjectsV2"): "ListBucket",
    ("s3", "ListObjectVersions"): "ListBucketVersions",
    ("s3", "ListBuckets"): "ListAllMyBuckets",
    ("s3", "ListMultipartUploads"): "ListBucketMultipartUploads",
    ("s3", "ListParts"): "ListMultipartUploadParts",
}

# (service, operation) -> what has to be authorized instead of one action.
_NOT_ONE_ACTION: dict[tuple[str, str], str] = {
    ("dynamodb", "TransactWriteItems"): "authorize each item (transact_actions): dynamodb:PutItem, "
    "dynamodb:UpdateItem, dynamodb:DeleteItem or dynamodb:ConditionCheckItem on its table",
    ("dynamodb", "TransactGetItems"): "authorize dynamodb:GetItem on each item's table (transact_actions)",
    ("dynamodb", "ExecuteStatement"): "PartiQL: dynamodb:PartiQLSelect/Insert/Update/Delete by statement verb",
    ("dynamodb", "BatchExecuteStatement"): "PartiQL: dynamodb:PartiQLSelect/Insert/Update/Delete per statement",
    ("dynamodb", "ExecuteTransaction"): "PartiQL: dynamodb:PartiQLSelect/Insert/Update/Delete per statement",
    ("kms", "ReEncrypt"): "kms:ReEncryptFrom on the source key and kms:ReEncryptTo on the destination key",
    ("s3", "CopyObject"): "s3:GetObject on the source object and s3:PutObject on the destination",
    ("s3", "UploadPartCopy"): "s3:GetObject on the source object and s3:PutObject on the destination",
}

# Calls AWS answers without any permission, even under an explicit deny.
# https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
_NO_PERMISSION_NEEDED = frozenset({("sts", "GetCallerIdentity")})

_TRANSACT_ITEM_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}


class UnknownService(ValueError):
    """The sandbox does not know this service's IAM prefix, so it will not guess one."""


class NotASingleAction(ValueError):
    """The operation is authorized by several actions or per item; the message says which."""


def iam_action(service: str, operation: str) -> str:
    """The IAM action that authorizes ``operation`` of botocore service ``service``."""
    prefix = _prefix(service)
    key = (service, operation)
    if key in _NOT_ONE_ACTION:
        raise NotASingleAction(f"{service} {operation} is not authorized by one action: {_NOT_ONE_ACTION[key]}")
    return f"{prefix}:{_RENAMED.get(key, operation)}"


def requires_authorization(service: str, operation: str) -> bool:
    """False for the few calls AWS serves to every principal (sts GetCallerIdentity)."""
    _prefix(service)
    return (service, operation) not in _NO_PERMISSION_NEEDED


def transact_actions(request: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(action, TableName) for each item of a TransactWriteItems/TransactGetItems body, in order.

    Every pair must be allowed for the transaction to be allowed; pairs repeat when items do.
    Evaluate them with ``{"dynamodb:EnclosingOperation": "TransactWriteItems"}`` (or ...Get...)
    in the context, the key AWS sets so policies can tell transactional items apart.
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html
    """
    items = request.get("TransactItems")
    if not isinstance(items, list) or not items:
        raise ValueError("TransactItems must be a non-empty list of {Put|Update|Delete|ConditionCheck|Get: {...}}")
    pairs: list[tuple[str, str]] = []
    problems: list[str] = []
    for index, item in enumerate(items):
        kinds = [kind for kind in _TRANSACT_ITEM_ACTIONS if isinstance(item, Mapping) and kind in item]
        if len(kinds) != 1:
            found = sorted(item) if isinstance(item, Mapping) else type(item).__name__
            kinds_text = ", ".join(_TRANSACT_ITEM_ACTIONS)
            problems.append(f"TransactItems[{index}] must hold exactly one of {kinds_text}; found {found}")
            continue
        kind = kinds[0]
        table = item[kind].get("TableName") if isinstance(item[kind], Mapping) else None
        if not isinstance(table, str) or not table:
            problems.append(f"TransactItems[{index}].{kind}.TableName is missing")
            continue
        pairs.append((_TRANSACT_ITEM_ACTIONS[kind], table))
    if problems:
        raise ValueError("; ".join(problems))
    return pairs


def _prefix(service: str) -> str:
    try:
        return PREFIXES[service]
    except KeyError:
        raise UnknownService(f"no IAM prefix known for service {service!r}; known services: {', '.join(sorted(PREFIXES))}") from None

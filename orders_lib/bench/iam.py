"""What enforcing IAM costs per call: ``Guard.check_http`` on ProcessOrder's own ``UpdateItem``
request (its wire form: target header, SigV4 credential scope, JSON body) against the role's
policy as deployed, timed in this process. The pipeline figures of ``make bench`` already run
enforced; this isolates the check itself."""

from __future__ import annotations

import json
import time
from typing import Any

from ..sandbox.iam.enforce import Guard, Principal, parsed


def check_cost(aws: Any, function: str, table: str, calls: int = 20_000) -> dict[str, Any]:
    configuration = aws("lambda").get_function(FunctionName=function)["Configuration"]
    role_arn = configuration["Role"]
    role = role_arn.rsplit("/", 1)[1]
    iam = aws("iam")
    policies = tuple(
        p
        for p in (
            parsed(name, iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])
            for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
        )
        if p is not None
    )
    principal = Principal(function, role_arn, policies)
    account = role_arn.split(":")[4]
    guard = Guard(account, "us-east-1", lambda _: principal)
    key = guard.identities.credentials(function)["AWS_ACCESS_KEY_ID"]
    headers = {
        "x-amz-target": "DynamoDB_20120810.UpdateItem",
        "authorization": f"AWS4-HMAC-SHA256 Credential={key}/20261127/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
    }
    body = json.dumps(
        {
            "TableName": table,
            "Key": {"orderId": {"S": "o-1"}},
            "UpdateExpression": "SET #s = :p",
            "ConditionExpression": "#s = :n",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":p": {"S": "PROCESSED"}, ":n": {"S": "NEW"}},
        }
    ).encode()
    assert guard.check_http("POST", "/", "", headers, body) is None, "the deployed role must allow ProcessOrder's UpdateItem"
    started = time.perf_counter()
    for _ in range(calls):
        guard.check_http("POST", "/", "", headers, body)
    per_call_us = (time.perf_counter() - started) / calls * 1e6
    return {"iam_check_us": round(per_call_us, 1), "statements": sum(len(p.statements) for p in policies)}

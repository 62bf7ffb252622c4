"""The sandbox's IAM guard without a server: who signed a request, what the role allows, the
three modes, uncertain requests, permissions boundaries, and denials botocore reads as AWS's."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.awsrequest import AWSRequest

from orders_lib.sandbox.iam import parse_policy
from orders_lib.sandbox.iam.enforce import Guard, Identities, Mode, Principal, parsed
from orders_lib.sandbox.iam.errors import denial_response

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/service/orders-ProcessRole-ABC"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:techtest-order-notifications"
TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/techtest-orders"
POLICY = parse_policy(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Publish", "Effect": "Allow", "Action": "sns:Publish", "Resource": TOPIC},
            {"Sid": "Update", "Effect": "Allow", "Action": "dynamodb:UpdateItem", "Resource": TABLE},
        ],
    },
    "process",
)


class _Captured(Exception):
    def __init__(self, request: AWSRequest):
        self.request = request


def signed(service: str, operation: str, params: dict, key: str) -> tuple[str, str, str, dict[str, str], bytes]:
    """The wire form of one boto3 call, signed with ``key``: what the sandbox's front end receives."""
    client = boto3.client(
        service, region_name="us-east-1", endpoint_url="http://localhost:4566", aws_access_key_id=key, aws_secret_access_key="secret"
    )

    def capture(request: AWSRequest, **_: object) -> None:
        raise _Captured(request)

    client.meta.events.register("before-send", capture)
    with pytest.raises(_Captured) as captured:
        getattr(client, operation)(**params)
    request = captured.value.request
    path, _, query = request.url.split("localhost:4566", 1)[1].partition("?")
    headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
    body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
    return request.method, path or "/", query, headers, body


def guard(mode: Mode = Mode.ENFORCE, principal: Principal | None = None) -> Guard:
    found = principal or Principal("techtest-process-order", ROLE, (POLICY,))
    return Guard(ACCOUNT, "us-east-1", lambda function: found if function == found.function else None, mode)


def as_request(g: Guard, service: str, operation: str, params: dict, function: str = "techtest-process-order"):
    key = g.identities.credentials(function)["AWS_ACCESS_KEY_ID"]
    return signed(service, operation, params, key)


def test_identities_are_stable_per_function_and_look_like_role_session_keys():
    one, two = Identities(ACCOUNT), Identities(ACCOUNT)
    first = one.credentials("techtest-create-order")
    assert first == two.credentials("techtest-create-order")
    assert first["AWS_ACCESS_KEY_ID"].startswith("ASIA") and len(first["AWS_ACCESS_KEY_ID"]) == 20
    assert first["AWS_ACCESS_KEY_ID"] != one.credentials("techtest-process-order")["AWS_ACCESS_KEY_ID"]
    header = f"AWS4-HMAC-SHA256 Credential={first['AWS_ACCESS_KEY_ID']}/20261127/us-east-1/sns/aws4_request, SignedHeaders=host"
    assert one.function_of({"authorization": header}) == "techtest-create-order"
    assert one.function_of({"authorization": header.replace(first["AWS_ACCESS_KEY_ID"], "AKIAOTHERCALLER00000")}) is None
    assert one.function_of({}) is None


def test_principal_is_the_functions_role_session():
    assert Principal("fn", ROLE, ()).arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/orders-ProcessRole-ABC/fn"


def test_an_allowed_call_passes_and_is_counted():
    g = guard()
    assert g.check_http(*as_request(g, "sns", "publish", {"TopicArn": TOPIC, "Message": "m"})) is None
    assert g.snapshot()["checked"] == 1 and g.snapshot()["refused"] == 0


def test_a_batch_operation_is_authorized_by_its_iam_action():
    g = guard()
    entries = [{"Id": "1", "Message": "m"}]
    assert g.check_http(*as_request(g, "sns", "publish_batch", {"TopicArn": TOPIC, "PublishBatchRequestEntries": entries})) is None


def test_a_refusal_answers_in_the_services_wire_form_with_awss_message():
    g = guard()
    status, _, body = g.check_http(*as_request(g, "dynamodb", "put_item", {"TableName": "techtest-orders", "Item": {"k": {"S": "v"}}}))
    assert status == 400
    document = json.loads(body)
    assert document["__type"].endswith("#AccessDeniedException")
    assert document["message"] == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/orders-ProcessRole-ABC/techtest-process-order is not authorized to perform: "
        f"dynamodb:PutItem on resource: {TABLE} because no identity-based policy allows the dynamodb:PutItem action"
    )
    recent = g.snapshot()["recent"]
    assert g.snapshot()["refused"] == 1 and recent[0]["action"] == "dynamodb:PutItem" and recent[0]["enforced"]


def test_other_callers_are_administrators():
    g = guard()
    assert g.check_http(*signed("dynamodb", "delete_table", {"TableName": "techtest-orders"}, "AKIAADMIN0000000000")) is None
    assert g.snapshot()["checked"] == 0


def test_soft_mode_records_but_lets_through_and_off_checks_nothing():
    soft = guard(Mode.SOFT)
    assert (
        soft.check_http(*as_request(soft, "sqs", "send_message", {"QueueUrl": "http://localhost:4566/123456789012/q", "MessageBody": "b"}))
        is None
    )
    assert soft.snapshot()["would_refuse"] == 1 and soft.snapshot()["refused"] == 0
    off = guard(Mode.OFF)
    assert (
        off.check_http(*as_request(off, "sqs", "send_message", {"QueueUrl": "http://localhost:4566/123456789012/q", "MessageBody": "b"}))
        is None
    )
    assert off.snapshot() == {"mode": "off", "checked": 0, "refused": 0, "would_refuse": 0, "uncertain": 0, "calls": {}, "recent": []}
    off.set_mode("enforce")
    assert off.check_http(*as_request(off, "sqs", "send_message", {"QueueUrl": "http://localhost:4566/123456789012/q", "MessageBody": "b"}))


def test_each_request_a_function_sends_is_counted_by_operation_whatever_the_verdict():
    g = guard(Mode.SOFT)
    publish = as_request(g, "sns", "publish", {"TopicArn": TOPIC, "Message": "m"})
    refused = as_request(g, "sqs", "send_message", {"QueueUrl": "http://localhost:4566/123456789012/q", "MessageBody": "b"})
    for request in (publish, publish, refused):
        g.check_http(*request)
    assert g.check_http(*signed("sns", "publish", {"TopicArn": TOPIC, "Message": "m"}, "AKIAADMIN0000000000")) is None  # not a function
    assert g.snapshot()["calls"] == {"techtest-process-order": {"sns.Publish": 2, "sqs.SendMessage": 1}}
    g.reset()
    assert g.snapshot()["calls"] == {}


def test_a_policy_change_applies_to_the_next_call():
    policies = [POLICY]
    g = Guard(ACCOUNT, "us-east-1", lambda function: Principal(function, ROLE, tuple(policies)))
    publish = as_request(g, "sns", "publish", {"TopicArn": TOPIC, "Message": "m"})
    assert g.check_http(*publish) is None
    policies[:] = [parse_policy({"Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}, "other")]
    assert g.check_http(*publish)[0] == 403


def test_an_explicit_deny_names_itself():
    deny = parse_policy({"Statement": [{"Effect": "Deny", "Action": "sns:*", "Resource": "*"}]}, "deny")
    g = guard(principal=Principal("techtest-process-order", ROLE, (POLICY, deny)))
    status, _, body = g.check_http(*as_request(g, "sns", "publish", {"TopicArn": TOPIC, "Message": "m"}))
    assert status == 403 and b"with an explicit deny in an identity-based policy" in body


def test_a_permissions_boundary_limits_what_the_policies_allow():
    boundary = parse_policy({"Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}, "boundary")
    g = guard(principal=Principal("techtest-process-order", ROLE, (POLICY,), boundary))
    status, _, body = g.check_http(*as_request(g, "sns", "publish", {"TopicArn": TOPIC, "Message": "m"}))
    assert status == 403 and b"because no permissions boundary allows the sns:Publish action" in body
    assert g.check_http(*as_request(g, "dynamodb", "update_item", {"TableName": "techtest-orders", "Key": {"k": {"S": "v"}}})) is None


def test_a_condition_it_cannot_evaluate_is_reported_not_guessed():
    conditional = parse_policy(
        {
            "Statement": [
                {"Effect": "Allow", "Action": "sns:Publish", "Resource": TOPIC, "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}
            ]
        },
        "conditional",
    )
    g = guard(principal=Principal("techtest-process-order", ROLE, (conditional,)))
    assert g.check_http(*as_request(g, "sns", "publish", {"TopicArn": TOPIC, "Message": "m"})) is None
    assert g.snapshot()["uncertain"] == 1 and g.snapshot()["refused"] == 0


def test_a_function_whose_role_is_gone_may_do_nothing():
    g = Guard(ACCOUNT, "us-east-1", lambda function: Principal(function, ROLE, ()))
    status, _, body = g.check_http(*as_request(g, "sns", "publish", {"TopicArn": TOPIC, "Message": "m"}))
    assert status == 403 and b"is not authorized to perform: sns:Publish" in body


def test_a_deleted_functions_last_calls_are_not_checked():
    """Its mapping's poller may read once more before it stops; AWS deletes the mapping with it."""
    g = Guard(ACCOUNT, "us-east-1", lambda function: None)
    assert g.check_http(*as_request(g, "sns", "publish", {"TopicArn": TOPIC, "Message": "m"})) is None
    assert g.snapshot()["refused"] == 0


def test_calls_the_sandbox_makes_for_a_function_are_checked_the_same_way():
    g = guard()
    assert g.refuses("techtest-process-order", "dynamodb:UpdateItem", TABLE) is None
    refusal = g.refuses("techtest-process-order", "logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:g:log-stream:s")
    assert refusal is not None and refusal.service == "logs" and refusal.enforced


def test_unparsable_policies_grant_nothing():
    assert parsed("broken", '{"Statement": [{"Effect": "Maybe"}]}') is None
    assert parsed("ok", {"Statement": [{"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}]}) is not None


@pytest.mark.parametrize(
    "service, headers, code, status",
    [
        ("dynamodb", {"X-Amz-Target": "DynamoDB_20120810.PutItem"}, "AccessDeniedException", 400),
        ("sqs", {"X-Amz-Target": "AmazonSQS.SendMessage"}, "AccessDenied", 403),
        ("kms", {"X-Amz-Target": "TrentService.Encrypt"}, "AccessDeniedException", 400),
        ("logs", {"X-Amz-Target": "Logs_20140328.PutLogEvents"}, "AccessDeniedException", 400),
        ("sns", {}, "AuthorizationError", 403),
        ("lambda", {}, "AccessDeniedException", 403),
    ],
)
def test_botocore_reads_each_denial_as_the_services_own_error(service, headers, code, status):
    """Parsed by botocore's own response parser for the service's protocol, as a client would."""
    from botocore.parsers import create_parser

    client = boto3.client(service, region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    status_code, wire_headers, body = denial_response(service, "User: x is not authorized to perform: y <&>", headers)
    parser = create_parser(client.meta.service_model.protocol)
    operation = client.meta.service_model.operation_model(
        {"dynamodb": "PutItem", "sqs": "SendMessage", "kms": "Encrypt", "logs": "PutLogEvents", "sns": "Publish", "lambda": "Invoke"}[
            service
        ]
    )
    parsed_error = parser.parse({"status_code": status_code, "headers": dict(wire_headers), "body": body}, operation.output_shape)
    assert status_code == status
    assert parsed_error["Error"]["Code"] == code
    assert parsed_error["Error"]["Message"] == "User: x is not authorized to perform: y <&>"


def test_a_service_without_a_known_denial_shape_answers_in_its_protocols_usual_form():
    assert denial_response("events", "m", {"X-Amz-Target": "AWSEvents.PutEvents"})[0] == 400
    status, _, body = denial_response("elasticache", "m", {})
    assert status == 403 and b"<Code>AccessDenied</Code>" in body

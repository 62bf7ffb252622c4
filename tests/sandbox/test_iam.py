"""IAM on a sandbox with the stack deployed: a statement taken out of a role through the IAM API
shows the failure where AWS shows it, each service refuses with its own code and AWS's message,
soft mode only logs, and putting the statement back heals the pipeline with nothing lost.

This sandbox is the only one allowed refusals; every other sandbox in the test session must end
with none (see ``start_sandbox``)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from orders_lib.cli import _iam_report
from orders_lib.sandbox import control
from sandbox_testing import Aws, wait_for

ORDER = {
    "customer": {"customerId": "C-7", "name": "Grace Hopper", "email": "grace@example.com"},
    "items": [{"sku": "NB-A5", "name": "Notebook A5", "quantity": 1, "unitPrice": "4.50"}],
    "currency": "EUR",
}


@pytest.fixture(scope="module")
def iam_sandbox(start_sandbox):
    return start_sandbox("sandbox-iam", refusals_expected=True)


@pytest.fixture(scope="module")
def iam_aws(iam_sandbox):
    return Aws(iam_sandbox.endpoint, attempts=1)


@pytest.fixture(autouse=True)
def enforced(iam_sandbox):
    control.control(iam_sandbox.endpoint, "iam", {"mode": "enforce", "reset": True})
    yield
    control.control(iam_sandbox.endpoint, "iam", {"mode": "enforce"})


@contextlib.contextmanager
def without(aws, function, sid):
    """Take statement ``sid`` out of ``function``'s role policy through the IAM API; put it back after."""
    iam = aws("iam")
    role = aws("lambda").get_function(FunctionName=function)["Configuration"]["Role"].rsplit("/", 1)[1]
    name = next(
        n
        for n in iam.list_role_policies(RoleName=role)["PolicyNames"]
        if any(s.get("Sid") == sid for s in iam.get_role_policy(RoleName=role, PolicyName=n)["PolicyDocument"]["Statement"])
    )
    original = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    reduced = {**original, "Statement": [s for s in original["Statement"] if s.get("Sid") != sid]}
    iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(reduced))
    try:
        yield role
    finally:
        iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(original))


def create(aws, outputs, **changes):
    request = {**ORDER, "idempotencyKey": f"iam-{uuid.uuid4()}", **changes}
    response = aws("lambda").invoke(FunctionName=outputs["CreateOrderFunctionName"], Payload=json.dumps(request).encode())
    return response.get("FunctionError"), json.loads(response["Payload"].read())


def order_count(aws, outputs):
    return aws("dynamodb").scan(TableName=outputs["TableName"], Select="COUNT")["Count"]


def log_text(aws, group):
    return "\n".join(e["message"] for e in aws("logs").filter_log_events(logGroupName=group)["events"])


def refusals(sandbox):
    return control.control(sandbox.endpoint, "iam")


def as_function(sandbox, function, service):
    """A client signed with ``function``'s own credentials, as its code would make it."""
    credentials = control.control(sandbox.endpoint, f"iam?function={function}")["credentials"]
    return boto3.session.Session().client(
        service,
        endpoint_url=sandbox.endpoint,
        region_name="us-east-1",
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=credentials["AWS_SESSION_TOKEN"],
    )


def test_the_stack_runs_enforced_without_a_refusal(iam_sandbox, iam_aws):
    outputs = iam_sandbox.outputs
    error, response = create(iam_aws, outputs)
    assert error is None and response["statusCode"] == 201
    order_id = json.loads(response["body"])["order"]["orderId"]
    key = {"orderId": {"S": order_id}}
    wait_for(
        lambda: iam_aws("dynamodb").get_item(TableName=outputs["TableName"], Key=key)["Item"]["status"]["S"] == "PROCESSED",
        message="the order PROCESSED",
    )
    state = refusals(iam_sandbox)
    assert state["mode"] == "enforce" and state["checked"] > 0
    assert state["refused"] == 0, state["recent"]


def test_create_order_without_put_item_fails_and_writes_nothing(iam_sandbox, iam_aws):
    outputs = iam_sandbox.outputs
    before = order_count(iam_aws, outputs)
    with without(iam_aws, outputs["CreateOrderFunctionName"], "PutNewOrdersReadBackDuplicates") as role:
        error, payload = create(iam_aws, outputs)
    assert error == "Unhandled"
    assert payload["errorType"] == "ClientError"  # botocore models no AccessDeniedException for DynamoDB
    assert payload["errorMessage"] == (
        "An error occurred (AccessDeniedException) when calling the PutItem operation: "
        f"User: arn:aws:sts::123456789012:assumed-role/{role}/techtest-create-order is not authorized to perform: "
        f"dynamodb:PutItem on resource: {outputs['TableArn']} because no identity-based policy allows the dynamodb:PutItem action"
    )
    assert order_count(iam_aws, outputs) == before, "a refused PutItem writes nothing"
    assert "not authorized to perform: dynamodb:PutItem" in log_text(iam_aws, outputs["CreateOrderLogGroupName"])
    assert create(iam_aws, outputs)[1]["statusCode"] == 201, "the statement back, the next call is allowed"


def test_process_order_without_sns_publish_sends_the_batch_to_the_dlq(iam_sandbox, iam_aws):
    outputs = iam_sandbox.outputs
    sqs = iam_aws("sqs")
    dlq = sqs.get_queue_url(QueueName=outputs["DlqName"])["QueueUrl"]
    with without(iam_aws, outputs["ProcessOrderFunctionName"], "PublishNotifications"):
        assert create(iam_aws, outputs)[1]["statusCode"] == 201

        def failure_record():
            messages = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
            for message in messages:
                sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
            return [json.loads(m["Body"]) for m in messages]

        records = wait_for(failure_record, timeout=30, message="the failed batch in the DLQ")
    assert records[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert records[0]["requestContext"]["approximateInvokeCount"] == 4  # the first attempt and 3 retries
    assert "not authorized to perform: sns:Publish" in log_text(iam_aws, outputs["ProcessOrderLogGroupName"])
    assert any(r["action"] == "sns:Publish" for r in refusals(iam_sandbox)["recent"])


def test_stream_reads_need_the_role_and_resume_with_nothing_lost(iam_sandbox, iam_aws):
    outputs = iam_sandbox.outputs
    mapping = outputs["EventSourceMappingId"]
    with without(iam_aws, outputs["ProcessOrderFunctionName"], "ReadTableStream"):
        _, response = create(iam_aws, outputs)
        order_id = json.loads(response["body"])["order"]["orderId"]
        stats = wait_for(
            lambda: (s := control.control(iam_sandbox.endpoint, "mappings")[mapping]["shards"][0])["read_refusals"] and s,
            message="a refused stream read",
        )
        assert stats["last_result"].startswith("PROBLEM: Lambda could not read the stream: User: ")
        assert "dynamodb:GetRecords" in stats["last_result"]
        key = {"orderId": {"S": order_id}}
        assert iam_aws("dynamodb").get_item(TableName=outputs["TableName"], Key=key)["Item"]["status"]["S"] == "NEW"
    wait_for(
        lambda: iam_aws("dynamodb").get_item(TableName=outputs["TableName"], Key=key)["Item"]["status"]["S"] == "PROCESSED",
        message="the order processed once the role may read the stream again",
    )


def test_log_writes_need_the_role_and_are_lost_silently(iam_sandbox, iam_aws):
    outputs = iam_sandbox.outputs
    group = outputs["CreateOrderLogGroupName"]
    with without(iam_aws, outputs["CreateOrderFunctionName"], "WriteOwnLogGroup"):
        marker = f"C-silent-{uuid.uuid4().hex[:8]}"
        error, response = create(iam_aws, outputs, customer={**ORDER["customer"], "customerId": marker})
        assert error is None and response["statusCode"] == 201, "the function itself never notices"
    assert {r["action"] for r in refusals(iam_sandbox)["recent"]} & {"logs:PutLogEvents", "logs:CreateLogStream"}
    assert json.loads(response["body"])["order"]["orderId"] not in log_text(iam_aws, group)


def test_soft_mode_logs_what_it_would_refuse_and_lets_it_through(iam_sandbox, iam_aws):
    outputs = iam_sandbox.outputs
    control.control(iam_sandbox.endpoint, "iam", {"mode": "soft"})
    with without(iam_aws, outputs["CreateOrderFunctionName"], "PutNewOrdersReadBackDuplicates"):
        error, response = create(iam_aws, outputs)
    assert error is None and response["statusCode"] == 201
    state = refusals(iam_sandbox)
    assert state["refused"] == 0 and state["would_refuse"] >= 1
    assert state["recent"][-1]["action"] == "dynamodb:PutItem" and state["recent"][-1]["enforced"] is False
    report = _iam_report(state).splitlines()  # what `orders sandbox iam` prints
    assert report[0].startswith("IAM soft: ") and "0 refused, 1 would be refused (soft)" in report[0]
    assert "would refuse techtest-create-order: User: arn:aws:sts::" in report[-1]


def test_an_explicit_deny_wins_over_the_allow(iam_sandbox, iam_aws):
    outputs = iam_sandbox.outputs
    iam = iam_aws("iam")
    role = iam_aws("lambda").get_function(FunctionName=outputs["ProcessOrderFunctionName"])["Configuration"]["Role"].rsplit("/", 1)[1]
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "sns:*", "Resource": "*"}]}
    iam.put_role_policy(RoleName=role, PolicyName="deny-sns", PolicyDocument=json.dumps(deny))
    try:
        with pytest.raises(ClientError) as refused:
            as_function(iam_sandbox, outputs["ProcessOrderFunctionName"], "sns").publish(TopicArn=outputs["TopicArn"], Message="x")
    finally:
        iam.delete_role_policy(RoleName=role, PolicyName="deny-sns")
    assert refused.value.response["Error"]["Message"].endswith(
        f"sns:Publish on resource: {outputs['TopicArn']} with an explicit deny in an identity-based policy"
    )


@pytest.mark.parametrize(
    "service, call, code, status, action",
    [
        (
            "dynamodb",
            lambda c, o: c.put_item(TableName=o["TableName"], Item={"orderId": {"S": "x"}}),
            "AccessDeniedException",
            400,
            "dynamodb:PutItem",
        ),
        (
            "sns",
            lambda c, o: c.publish_batch(
                TopicArn=o["TopicArn"].replace("notifications", "other"), PublishBatchRequestEntries=[{"Id": "1", "Message": "x"}]
            ),
            "AuthorizationError",
            403,
            "sns:Publish",
        ),
        (
            "sqs",
            lambda c, o: c.receive_message(QueueUrl=c.get_queue_url(QueueName=o["DlqName"])["QueueUrl"]),
            "AccessDenied",
            403,
            "sqs:GetQueueUrl",
        ),
        ("kms", lambda c, o: c.schedule_key_deletion(KeyId=o["KeyArn"]), "AccessDeniedException", 400, "kms:ScheduleKeyDeletion"),
        (
            "logs",
            lambda c, o: c.delete_log_group(logGroupName=o["ProcessOrderLogGroupName"]),
            "AccessDeniedException",
            400,
            "logs:DeleteLogGroup",
        ),
        (
            "lambda",
            lambda c, o: c.invoke(FunctionName=o["CreateOrderFunctionName"], Payload=b"{}"),
            "AccessDeniedException",
            403,
            "lambda:InvokeFunction",
        ),
    ],
)
def test_each_service_refuses_with_its_own_code_and_awss_message(iam_sandbox, service, call, code, status, action):
    outputs = iam_sandbox.outputs
    client = as_function(iam_sandbox, outputs["ProcessOrderFunctionName"], service)
    with pytest.raises(ClientError) as refused:
        call(client, outputs)
    error = refused.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (code, status)
    assert error["Error"]["Message"].startswith("User: arn:aws:sts::123456789012:assumed-role/")
    assert f"/techtest-process-order is not authorized to perform: {action} on resource: arn:aws:" in error["Error"]["Message"]
    assert error["Error"]["Message"].endswith(f"because no identity-based policy allows the {action} action")


def test_the_aws_cli_shows_the_refusal(iam_sandbox):
    outputs = iam_sandbox.outputs
    credentials = control.control(iam_sandbox.endpoint, f"iam?function={outputs['CreateOrderFunctionName']}")["credentials"]
    result = subprocess.run(
        ["aws", "--endpoint-url", iam_sandbox.endpoint, "sns", "publish", "--topic-arn", outputs["TopicArn"], "--message", "x"],
        capture_output=True,
        text=True,
        env={**os.environ, **credentials, "AWS_DEFAULT_REGION": "us-east-1"},
        timeout=60,
    )
    assert result.returncode != 0
    assert (
        "An error occurred (AuthorizationError) when calling the Publish operation: User: arn:aws:sts::123456789012:assumed-role/"
        in result.stderr
    )
    assert "is not authorized to perform: sns:Publish" in result.stderr


def test_other_callers_stay_administrators(iam_sandbox, iam_aws):
    outputs = iam_sandbox.outputs
    iam_aws("sns").publish(TopicArn=outputs["TopicArn"], Message="from the notebook's own credentials")
    assert refusals(iam_sandbox)["refused"] == 0

"""Function concurrency on a real sandbox, as Lambda applies it: reserved concurrency
from the API and from a template, throttles with Lambda's error, Event invocations
held and never lost, timeouts counted from the start of execution, and stream
mappings that wait out a throttle without spending retries."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from orders_lib.sandbox import control
from sandbox_testing import Aws, execution_role, wait_for

from .conftest import zip_source

SLEEPER = """
import json, os, time
import boto3


def handler(event, context):
    time.sleep(event.get("sleep", 0))
    if event.get("probe"):
        boto3.client("sqs").send_message(QueueUrl=os.environ["PROBE_URL"], MessageBody=json.dumps(event))
    return {"ok": True, "remaining_ms": context.get_remaining_time_in_millis()}
"""


@pytest.fixture(scope="module")
def sleeper(aws):
    """A function that sleeps as long as it is asked to, and can report to a probe queue."""
    probe_url = aws("sqs").create_queue(QueueName="capacity-probe")["QueueUrl"]
    probe_arn = aws("sqs").get_queue_attributes(QueueUrl=probe_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    role = execution_role(aws, "capacity-sleeper", [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": probe_arn}])
    aws("lambda").create_function(
        FunctionName="capacity-sleeper",
        Runtime="python3.12",
        Role=role,
        Handler="sleeper.handler",
        Code={"ZipFile": zip_source(SLEEPER, "sleeper.py")},
        Timeout=1,
        Environment={"Variables": {"PROBE_URL": probe_url}},
    )
    return {"name": "capacity-sleeper", "probe_url": probe_url}


def invoke(client, name, event):
    response = client.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    return response.get("FunctionError"), json.loads(response["Payload"].read())


def test_reserved_concurrency_zero_throttles_with_lambdas_error(aws, sleeper):
    aws("lambda").put_function_concurrency(FunctionName=sleeper["name"], ReservedConcurrentExecutions=0)
    try:
        with pytest.raises(ClientError) as refused:
            aws("lambda").invoke(FunctionName=sleeper["name"], Payload=b"{}")
    finally:
        aws("lambda").delete_function_concurrency(FunctionName=sleeper["name"])
    error = refused.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error["Error"]["Code"] == "TooManyRequestsException" and error["Error"]["Message"] == "Rate Exceeded."
    assert error["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded" and error["Type"] == "User"
    assert invoke(aws("lambda"), sleeper["name"], {})[1]["ok"], "deleting the reserved concurrency lifts the throttle"


def test_the_aws_cli_reports_the_throttle(bare_sandbox, aws, sleeper):
    aws("lambda").put_function_concurrency(FunctionName=sleeper["name"], ReservedConcurrentExecutions=0)
    try:
        done = subprocess.run(
            [
                str(Path(sys.executable).with_name("aws")),
                "--endpoint-url",
                bare_sandbox.endpoint,
                "--region",
                "us-east-1",
                "lambda",
                "invoke",
                "--function-name",
                sleeper["name"],
                "--payload",
                "{}",
                "/dev/null",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_MAX_ATTEMPTS": "1", "PATH": "/usr/bin:/bin"},
        )
    finally:
        aws("lambda").delete_function_concurrency(FunctionName=sleeper["name"])
    assert done.returncode != 0
    assert "TooManyRequestsException" in done.stderr and "Rate Exceeded" in done.stderr


def test_queued_invocations_wait_for_a_worker_and_their_timeout_starts_with_execution(bare_sandbox, sleeper):
    """Twelve invocations of 0.6 s on 4 workers: the last ones wait longer than the
    function's 1 s timeout before they start, and none times out."""
    client = Aws(bare_sandbox.endpoint, attempts=1)("lambda")
    workers = control.control(bare_sandbox.endpoint, "capacity")["max_workers"]
    count = workers * 3
    started = time.monotonic()
    with ThreadPoolExecutor(count) as pool:
        results = list(pool.map(lambda _: invoke(client, sleeper["name"], {"sleep": 0.6}), range(count)))
    elapsed = time.monotonic() - started
    assert elapsed >= 3 * 0.6, "the invocations did not wait for workers"
    assert [error for error, _ in results] == [None] * count, results
    stats = control.control(bare_sandbox.endpoint, "capacity")["functions"][sleeper["name"]]
    assert stats["peak_running"] <= workers and stats["peak_waiting"] >= count - workers - 1


def test_event_invocations_held_by_a_zero_reservation_run_once_it_is_lifted(aws, sleeper):
    aws("lambda").put_function_concurrency(FunctionName=sleeper["name"], ReservedConcurrentExecutions=0)
    try:
        for number in range(5):
            response = aws("lambda").invoke(
                FunctionName=sleeper["name"], InvocationType="Event", Payload=json.dumps({"probe": True, "number": number}).encode()
            )
            assert response["StatusCode"] == 202
        time.sleep(1.0)
        assert aws("sqs").receive_message(QueueUrl=sleeper["probe_url"], WaitTimeSeconds=0).get("Messages") is None, "ran while throttled"
    finally:
        aws("lambda").delete_function_concurrency(FunctionName=sleeper["name"])
    # The next request for the function sees the lifted reservation and starts the held ones.
    invoke(aws("lambda"), sleeper["name"], {})
    numbers: set[int] = set()

    def arrived():
        for message in aws("sqs").receive_message(QueueUrl=sleeper["probe_url"], MaxNumberOfMessages=10).get("Messages", []):
            numbers.add(json.loads(message["Body"])["number"])
            aws("sqs").delete_message(QueueUrl=sleeper["probe_url"], ReceiptHandle=message["ReceiptHandle"])
        return numbers == set(range(5))

    wait_for(arrived, timeout=20, message="the five held Event invocations")


def test_reserved_concurrency_from_a_template_is_honoured(aws, bare_sandbox):
    template = {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
                    },
                    "Policies": [
                        {
                            "PolicyName": "logs",
                            "PolicyDocument": {
                                "Version": "2012-10-17",
                                "Statement": [
                                    {
                                        "Effect": "Allow",
                                        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                                        "Resource": "arn:aws:logs:*:*:log-group:/aws/lambda/capacity-reserved-one*",
                                    }
                                ],
                            },
                        }
                    ],
                },
            },
            "Reserved": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "FunctionName": "capacity-reserved-one",
                    "Runtime": "python3.12",
                    "Handler": "index.handler",
                    "Timeout": 5,
                    "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                    "ReservedConcurrentExecutions": 1,
                    "Code": {"ZipFile": "import time\ndef handler(event, context):\n    time.sleep(0.8)\n    return 'done'\n"},
                },
            },
        }
    }
    aws("cloudformation").create_stack(StackName="capacity-template", TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"])
    function = wait_for(
        lambda: [
            s
            for s in aws("cloudformation").list_stack_resources(StackName="capacity-template")["StackResourceSummaries"]
            if s["LogicalResourceId"] == "Reserved"
        ],
        message="the stack's function",
    )[0]["PhysicalResourceId"]
    assert aws("lambda").get_function_concurrency(FunctionName=function)["ReservedConcurrentExecutions"] == 1
    client = Aws(bare_sandbox.endpoint, attempts=1)("lambda")

    def attempt(_):
        try:
            return client.invoke(FunctionName=function, Payload=b"{}")["StatusCode"]
        except ClientError as error:
            return error.response.get("Reason")

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(attempt, range(4)))
    assert outcomes.count(200) >= 1
    assert outcomes.count("ReservedFunctionConcurrentInvocationLimitExceeded") >= 2, outcomes
    assert set(outcomes) <= {200, "ReservedFunctionConcurrentInvocationLimitExceeded"}


def test_a_throttled_stream_mapping_waits_without_spending_retries(aws, bare_sandbox, scenario):
    """No retries allowed: had a throttle counted as an attempt, the records would be in the DLQ."""
    s = scenario(MaximumRetryAttempts=0)
    aws("lambda").put_function_concurrency(FunctionName=s.function["FunctionName"], ReservedConcurrentExecutions=0)
    try:
        for key in ("t1", "t2", "t3"):
            s.put(key)

        def throttled():
            mapping = control.control(bare_sandbox.endpoint, "mappings").get(s.mapping["UUID"])  # once the poller is up
            stats = mapping["shards"][0] if mapping else {"throttles": 0}
            return stats["throttles"] >= 3 and stats

        stats = wait_for(throttled, timeout=20, message="throttled mapping invocations")
        assert stats["invocations"] == 0 and stats["last_result"] == "PROBLEM: Function call throttled"
        assert s.delivered_keys() == [] and s.dlq() == []
    finally:
        aws("lambda").delete_function_concurrency(FunctionName=s.function["FunctionName"])
    wait_for(lambda: s.delivered_keys() == ["t1", "t2", "t3"], timeout=20, message="delivery once the throttle lifts")
    assert s.dlq() == []

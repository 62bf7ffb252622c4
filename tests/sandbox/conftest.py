"""Sandbox fixtures: a real sandbox process on a free port, stopped afterwards."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from sandbox_testing import Aws, execution_role


@pytest.fixture(scope="session")
def bare_sandbox(start_sandbox):
    """APIs, runtime and mappings, without the stack: tests create what they need."""
    return start_sandbox("sandbox-bare", deploy=False)


@pytest.fixture(scope="session")
def aws(bare_sandbox):
    return Aws(bare_sandbox.endpoint, attempts=1)


PROBE_FUNCTION = """
import json, os, time
import boto3

sqs = boto3.client("sqs")


def handler(event, context):
    records = event["Records"]
    seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in records]
    modes = [r["dynamodb"].get("NewImage", {}).get("mode", {}).get("S", "ok") for r in records]
    print(json.dumps({"batch": keys}))
    names, identities = [r["eventName"] for r in records], [r.get("userIdentity") for r in records]
    body = {"keys": keys, "seqs": seqs, "names": names, "identities": identities}
    sqs.send_message(QueueUrl=os.environ["PROBE_URL"], MessageBody=json.dumps(body))
    if "raise" in modes:
        raise ValueError("poison record in batch")
    if "sleep" in modes:
        time.sleep(10)
    if "exit" in modes:
        os._exit(3)
    if "echo" in modes:  # write back to the table whose stream invoked us
        boto3.client("dynamodb").put_item(TableName=os.environ["TABLE"], Item={"pk": {"S": keys[modes.index("echo")] + "-echo"}})
    if "bad-id" in modes:
        return {"batchItemFailures": [{"itemIdentifier": ""}]}
    return {"batchItemFailures": [{"itemIdentifier": s} for s, m in zip(seqs, modes) if m == "fail-item"]}
"""


def zip_source(source, name="probe.py"):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, source)
    return buffer.getvalue()


class Scenario:
    """A table with a stream, a probe function, a probe queue and a DLQ, named apart per test.
    ``source`` replaces the probe function's code (``probe.handler``)."""

    def __init__(self, aws, name, **mapping):
        self.aws, self.name = aws, name
        ddb = aws("dynamodb")
        table = ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]
        self.stream_arn = table["LatestStreamArn"]
        sqs = aws("sqs")
        self.probe_url = sqs.create_queue(QueueName=f"{name}-probe")["QueueUrl"]
        self.dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=self.dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        probe_arn = sqs.get_queue_attributes(QueueUrl=self.probe_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        role = execution_role(
            aws,
            f"{name}-fn",
            [
                {
                    "Effect": "Allow",
                    "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
                    "Resource": self.stream_arn,
                },
                {"Effect": "Allow", "Action": "dynamodb:ListStreams", "Resource": "*"},
                {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": table["TableArn"]},  # the "echo" mode
                {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": [probe_arn, dlq_arn]},
            ],
        )
        self.function = aws("lambda").create_function(
            FunctionName=f"{name}-fn",
            Runtime="python3.12",
            Role=role,
            Handler="probe.handler",
            Code={"ZipFile": zip_source(mapping.pop("source", PROBE_FUNCTION))},
            Timeout=mapping.pop("timeout", 5),
            Environment={"Variables": {"PROBE_URL": self.probe_url, "TABLE": name}},
        )
        settings = dict(
            EventSourceArn=self.stream_arn,
            FunctionName=f"{name}-fn",
            StartingPosition="TRIM_HORIZON",
            BatchSize=10,
            DestinationConfig={"OnFailure": {"Destination": dlq_arn}},
        )
        settings.update(mapping)
        self.mapping = aws("lambda").create_event_source_mapping(**settings)
        self.batches: list[dict] = []

    def put(self, key, mode="ok"):
        self.aws("dynamodb").put_item(TableName=self.name, Item={"pk": {"S": key}, "mode": {"S": mode}})

    def drain(self, url):
        found = []
        while True:
            messages = self.aws("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return found
            for message in messages:
                found.append(json.loads(message["Body"]))
                self.aws("sqs").delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def invocations(self):
        self.batches += self.drain(self.probe_url)
        return self.batches

    def delivered_keys(self):
        return [key for batch in self.invocations() for key in batch["keys"]]

    def dlq(self):
        return self.drain(self.dlq_url)


@pytest.fixture
def scenario(aws, request):
    def make(**mapping):
        name = request.node.name.replace("_", "-").replace("[", "-").replace("]", "")[:40]
        return Scenario(aws, name, **mapping)

    return make


@pytest.fixture(scope="session")
def stack_sandbox(deployed_sandbox):
    """A sandbox with the CDK stack deployed through CloudFormation (shared with tests/integration)."""
    return deployed_sandbox


@pytest.fixture(scope="session")
def stack_aws(stack_sandbox):
    return Aws(stack_sandbox.endpoint)


@pytest.fixture(scope="session")
def outputs(stack_sandbox):
    return stack_sandbox.outputs

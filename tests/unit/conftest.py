"""Unit fixtures: moto in-process, a table with a stream, a topic read through a queue."""

from __future__ import annotations

import importlib
import itertools
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from moto import mock_aws

from orders_lib.aws import clients
from orders_lib.aws.notifier import SnsNotifier
from orders_lib.aws.repository import OrderRepository
from orders_lib.settings import Settings

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"
TABLE = "techtest-orders"
SETTINGS = Settings(target="aws", region="us-east-1", endpoint_url=None)


def valid_request(**overrides):
    request = {
        "customer": {"customerId": "C-1001", "name": "Ada Lovelace", "email": "ada@example.com"},
        "items": [
            {"sku": "SKU-1", "name": "Notebook", "quantity": 2, "unitPrice": "4.50"},
            {"sku": "SKU-2", "name": "Pen", "quantity": 3, "unitPrice": "1.25"},
        ],
        "currency": "EUR",
    }
    request.update(overrides)
    return request


@pytest.fixture
def clock():
    """A clock that ticks 1 ms per call from a fixed instant."""
    start = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
    ticks = itertools.count()
    return lambda: start + timedelta(milliseconds=next(ticks))


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("ORDERS_TARGET", "aws")
    clients.reset()
    with mock_aws():
        yield
    clients.reset()


@pytest.fixture
def dynamodb(aws):
    client = clients.client("dynamodb", SETTINGS)
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "orderId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "orderId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return client


@pytest.fixture
def repo(dynamodb):
    return OrderRepository(dynamodb, TABLE)


class Subscriber:
    """An SQS queue subscribed to the topic: reads what SNS delivered."""

    def __init__(self, sqs, queue_url):
        self.sqs, self.queue_url = sqs, queue_url

    def messages(self):
        found = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return found
            for message in batch:
                envelope = json.loads(message["Body"])
                found.append({"body": json.loads(envelope["Message"]), "attributes": envelope.get("MessageAttributes", {})})
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def topic_arn(aws):
    return clients.client("sns", SETTINGS).create_topic(Name="techtest-order-notifications")["TopicArn"]


@pytest.fixture
def subscriber(topic_arn):
    sqs = clients.client("sqs", SETTINGS)
    url = sqs.create_queue(QueueName="notifications-probe")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    clients.client("sns", SETTINGS).subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return Subscriber(sqs, url)


@pytest.fixture
def notifier(topic_arn):
    return SnsNotifier(clients.client("sns", SETTINGS), topic_arn)


def load_handler(name, monkeypatch, **env):
    """Import a handler module afresh with its environment, as a cold start would."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.syspath_prepend(str(LAMBDAS))
    sys.modules.pop(name, None)
    return importlib.import_module(name)


@pytest.fixture
def create_handler(dynamodb, monkeypatch):
    return load_handler("create_order", monkeypatch, TABLE_NAME=TABLE, TTL_DAYS="7").handler


@pytest.fixture
def process_handler(dynamodb, topic_arn, monkeypatch):
    return load_handler("process_order", monkeypatch, TABLE_NAME=TABLE, TOPIC_ARN=topic_arn).handler


class LambdaContext:
    function_name = "techtest-test"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:techtest-test"
    aws_request_id = "req-0001"

    @staticmethod
    def get_remaining_time_in_millis():
        return 30_000


@pytest.fixture
def context():
    return LambdaContext()

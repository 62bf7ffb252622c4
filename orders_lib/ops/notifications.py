"""Watch ORDER_PROCESSED notifications through an SQS queue subscribed to the topic."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass
class Subscription:
    queue_url: str
    subscription_arn: str


def subscribe_queue(sns: Any, sqs: Any, topic_arn: str, queue_name: str) -> Subscription:
    """A queue receiving the topic's messages (created if needed, allowed by its policy)."""
    queue_url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
    arn = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True)["SubscriptionArn"]
    return Subscription(queue_url, arn)


def receive(sqs: Any, queue_url: str, wait_s: int = 1) -> list[dict[str, Any]]:
    """Notifications that arrived (deleted from the watch queue once read)."""
    response = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_s, AttributeNames=["SentTimestamp"])
    notes = []
    for message in response.get("Messages", []):
        envelope = json.loads(message["Body"])
        body = json.loads(envelope.get("Message", "{}"))
        body["receivedAt"] = int(message.get("Attributes", {}).get("SentTimestamp", 0))
        notes.append(body)
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return notes


def unsubscribe(sns: Any, sqs: Any, subscription: Subscription) -> None:
    sns.unsubscribe(SubscriptionArn=subscription.subscription_arn)
    sqs.delete_queue(QueueUrl=subscription.queue_url)

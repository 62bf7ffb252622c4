"""The DLQ: decode on-failure records, find the orders they cover, redrive, purge.

An on-failure record names a stream range (shard, first and last sequence
number), not the records themselves; the records are read back from the stream
(DynamoDB keeps them 24 hours). Redrive sends them through the ProcessOrder
function again, exactly as the event source mapping would, never by editing
the table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..aws.repository import from_attribute_map
from ..domain.model import InvalidOrder, Order


@dataclass
class FailedBatch:
    message_id: str
    receipt_handle: str
    condition: str
    invoke_count: int
    function_error: str | None
    shard_id: str
    start_sequence: str
    end_sequence: str
    batch_size: int
    stream_arn: str
    failed_at: str
    records: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def decode(cls, message: dict[str, Any]) -> FailedBatch:
        body = json.loads(message["Body"])
        if "Message" in body and "DDBStreamBatchInfo" not in body:  # delivered through SNS
            body = json.loads(body["Message"])
        info, context = body["DDBStreamBatchInfo"], body.get("requestContext", {})
        return cls(
            message_id=message["MessageId"],
            receipt_handle=message["ReceiptHandle"],
            condition=context.get("condition", "?"),
            invoke_count=int(context.get("approximateInvokeCount", 0)),
            function_error=body.get("responseContext", {}).get("functionError"),
            shard_id=info["shardId"],
            start_sequence=info["startSequenceNumber"],
            end_sequence=info["endSequenceNumber"],
            batch_size=int(info["batchSize"]),
            stream_arn=info["streamArn"],
            failed_at=body.get("timestamp", ""),
        )

    def row(self) -> dict[str, Any]:
        orders = [explain(r) for r in self.records]
        return {
            "shard": self.shard_id[-12:],
            "sequence range": f"{self.start_sequence[-6:]}..{self.end_sequence[-6:]}",
            "batch size": self.batch_size,
            "condition": self.condition,
            "invocations": self.invoke_count,
            "orders": ", ".join(o["orderId"] for o in orders) or "(records no longer in the stream)",
            "why": "; ".join(sorted({o["why"] for o in orders})),
        }


def explain(record: dict[str, Any]) -> dict[str, str]:
    """Which order a stream record carries and why ProcessOrder would refuse it."""
    data = record.get("dynamodb", {})
    key = data.get("Keys", {}).get("orderId", {})
    order_id = next(iter(key.values()), "?") if isinstance(key, dict) else "?"
    if record.get("eventName") != "INSERT":
        return {"orderId": str(order_id), "why": f"{record.get('eventName')} event"}
    try:
        order = Order.from_item(from_attribute_map(data.get("NewImage", {})))
    except InvalidOrder as error:
        return {"orderId": str(order_id), "why": "not a valid order: " + "; ".join(error.problems[:3])}
    except (TypeError, ValueError) as error:
        return {"orderId": str(order_id), "why": f"image cannot be decoded: {error}"}
    return {"orderId": order.order_id, "why": "valid order: failed for a passing reason (see the function's logs); safe to redrive"}


def read_batches(sqs: Any, queue_url: str, limit: int = 100) -> list[FailedBatch]:
    """Peek at the DLQ: messages stay in the queue (visible again right after)."""
    seen: dict[str, FailedBatch] = {}
    while len(seen) < limit:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=30).get("Messages", [])
        fresh = [m for m in messages if m["MessageId"] not in seen]
        if not fresh:
            break
        for message in fresh:
            try:
                seen[message["MessageId"]] = FailedBatch.decode(message)
            except (KeyError, ValueError, TypeError):
                continue  # not an on-failure record: left in the queue untouched
    for batch in seen.values():
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=batch.receipt_handle, VisibilityTimeout=0)
    return list(seen.values())


def load_records(streams: Any, batch: FailedBatch) -> list[dict[str, Any]]:
    """The stream records a failed batch covers, in Lambda's event shape."""
    from orders_lib.sandbox.dynamodb.streams import to_event_record  # the same conversion the sandbox's mappings use

    try:
        iterator = streams.get_shard_iterator(
            StreamArn=batch.stream_arn,
            ShardId=batch.shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=batch.start_sequence,
        )["ShardIterator"]
    except streams.exceptions.TrimmedDataAccessException:
        return []
    end, records = int(batch.end_sequence), list[dict[str, Any]]()
    while iterator:
        response = streams.get_records(ShardIterator=iterator, Limit=100)
        for record in response.get("Records", []):
            if int(record["dynamodb"]["SequenceNumber"]) > end:
                return records
            records.append({**to_event_record(record), "eventSourceARN": batch.stream_arn})
        if not response.get("Records"):
            break
        iterator = response.get("NextShardIterator")
    return records


REDRIVE_KEY = "redrive"  # in a redriven event and in ProcessOrder's log lines for it


def redrive(lambda_client: Any, sqs: Any, queue_url: str, function_name: str, batch: FailedBatch) -> dict[str, Any]:
    """Send a failed batch's records through ProcessOrder; delete the DLQ message if all succeed.
    The event says where it comes from (``redrive``: the DLQ message and its condition), which
    ProcessOrder writes into its log lines, so a trace tells a redrive from an attempt."""
    if not batch.records:
        return {"redriven": 0, "failed": 0, "deleted": False, "note": "records no longer in the stream"}
    event = {"Records": batch.records, REDRIVE_KEY: {"dlq_message_id": batch.message_id, "condition": batch.condition}}
    response = lambda_client.invoke(FunctionName=function_name, Payload=json.dumps(event).encode())
    payload = json.loads(response["Payload"].read() or b"null")
    failed = [] if response.get("FunctionError") is None else batch.records
    if isinstance(payload, dict):
        failed = failed or payload.get("batchItemFailures", [])
    if not failed:
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=batch.receipt_handle)
    return {"redriven": len(batch.records) - len(failed), "failed": len(failed), "deleted": not failed}


def purge(sqs: Any, queue_url: str, *, confirmed: bool) -> int:
    """Delete every DLQ message, only when ``confirmed``; returns how many were there."""
    count = int(
        sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
    )
    if not confirmed:
        raise PermissionError(f"purging deletes {count} message(s) for good: confirm first")
    sqs.purge_queue(QueueUrl=queue_url)
    return count

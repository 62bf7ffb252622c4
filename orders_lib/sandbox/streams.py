"""Reading a DynamoDB stream over the sandbox's own API, in Lambda's record shape."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any


def _plain(value: Any) -> Any:
    """boto3 parsed the wire form; turn it back into JSON-safe values (B as base64)."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, set, tuple)):
        return [_plain(v) for v in value]
    return value


def to_event_record(record: dict[str, Any]) -> dict[str, Any]:
    data = dict(record["dynamodb"])
    created = data.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        data["ApproximateCreationDateTime"] = round(created.timestamp(), 3)
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": "1.1",  # what Lambda delivers today (moto's GetRecords says 1.0)
        "eventSource": "aws:dynamodb",
        "dynamodb": _plain(data),
    }


class StreamsApiReader:
    def __init__(self, client: Any):
        self._client = client

    def shard_ids(self, stream_arn: str) -> list[str]:
        description = self._client.describe_stream(StreamArn=stream_arn)["StreamDescription"]
        return [shard["ShardId"] for shard in description.get("Shards", [])]

    def iterator(self, stream_arn: str, shard_id: str, position: str) -> str:
        return self._client.get_shard_iterator(StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType=position)["ShardIterator"]

    def read(self, iterator: str, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        response = self._client.get_records(ShardIterator=iterator, Limit=limit)
        return [to_event_record(r) for r in response.get("Records", [])], response.get("NextShardIterator")

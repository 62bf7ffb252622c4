"""The order trace's other sources: the table item, the stream records for its key, the DLQ
entry covering its record, the alarms' history, the stream's iterator age.

The stream has no per-key query: a shard is read in order. When the function's logs name the
order's sequence number, reading starts there (``AT_SEQUENCE_NUMBER`` on the shard whose range
holds it) and follows its child shards; otherwise each shard is read from ``TRIM_HORIZON``.
Either way reading stops at the record that gave the item its current state (or at its
REMOVE), at a shard's tip, or after ``max_records``. DynamoDB Streams keep records 24 hours:
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetShardIterator.html
Alarm state changes come from ``DescribeAlarmHistory`` in the order's time window:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..aws.repository import from_attribute_map
from . import dlq


def get_item(dynamodb: Any, table_name: str, order_id: str) -> dict[str, Any] | None:
    """The stored item (consistent read), plain values, or None."""
    response = dynamodb.get_item(TableName=table_name, Key={"orderId": {"S": order_id}}, ConsistentRead=True)
    return from_attribute_map(response["Item"]) if "Item" in response else None


@dataclass(frozen=True)
class StreamRecord:
    """One stream record of the order's key."""

    sequence: str
    shard_id: str
    event_name: str
    approximate_at: datetime | None
    new_image: dict[str, Any]
    by_ttl: bool  # a REMOVE made by the TTL sweep (userIdentity dynamodb.amazonaws.com)


def _record(raw: dict[str, Any], shard_id: str) -> StreamRecord:
    data = raw.get("dynamodb", {})
    when = data.get("ApproximateCreationDateTime")
    if isinstance(when, (int, float)):
        when = datetime.fromtimestamp(when, UTC)
    identity = raw.get("userIdentity") or {}
    return StreamRecord(
        sequence=str(data.get("SequenceNumber", "")),
        shard_id=shard_id,
        event_name=str(raw.get("eventName", "")),
        approximate_at=when if isinstance(when, datetime) else None,
        new_image=from_attribute_map(data.get("NewImage", {})) if data.get("NewImage") else {},
        by_ttl=identity.get("PrincipalId") == "dynamodb.amazonaws.com",
    )


def _final(record: StreamRecord, item: dict[str, Any] | None) -> bool:
    """Is this the record that left the item as it is now (so none of the key's comes later)?"""
    if item is None:
        return record.event_name == "REMOVE"
    image = record.new_image
    return bool(image) and all(image.get(k) == item.get(k) for k in ("status", "processedAt", "notifiedAt", "createdAt"))


def _shards(streams: Any, stream_arn: str) -> list[dict[str, Any]]:
    shards: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"StreamArn": stream_arn}
    while True:
        description = streams.describe_stream(**kwargs)["StreamDescription"]
        shards += description.get("Shards", [])
        last = description.get("LastEvaluatedShardId")
        if not last:
            return shards
        kwargs["ExclusiveStartShardId"] = last


def _holds(shard: dict[str, Any], sequence: int) -> bool:
    span = shard.get("SequenceNumberRange", {})
    start, end = int(span.get("StartingSequenceNumber", "0")), span.get("EndingSequenceNumber")
    return start <= sequence and (end is None or sequence <= int(end))


@dataclass
class StreamRead:
    records: list[StreamRecord]
    read: int  # records read in all: the cost of not having a per-key query
    complete: bool  # stopped at the final record (False: a tip, the limit, or trimmed data)


FIRST_PAGE = 100  # an order's changes mostly follow its INSERT closely: a small first read, then full pages


def stream_records(
    streams: Any, stream_arn: str, order_id: str, item: dict[str, Any] | None, hint: str | None = None, max_records: int = 10_000
) -> StreamRead:
    """The records of ``order_id``'s key still in the stream, oldest first."""
    shards = _shards(streams, stream_arn)
    children: dict[str, list[dict[str, Any]]] = {}
    for shard in shards:
        children.setdefault(shard.get("ParentShardId") or "", []).append(shard)
    queue: list[tuple[dict[str, Any], str | None]]
    if hint is not None and any(_holds(s, int(hint)) for s in shards):
        queue = [(s, hint) for s in shards if _holds(s, int(hint))]
    else:
        known = {s["ShardId"] for s in shards}
        queue = [(s, None) for s in shards if (s.get("ParentShardId") or "") not in known]  # the oldest shards kept
    found, read = [], 0
    while queue and read < max_records:
        shard, start = queue.pop(0)
        kind = {"ShardIteratorType": "AT_SEQUENCE_NUMBER", "SequenceNumber": start} if start else {"ShardIteratorType": "TRIM_HORIZON"}
        try:
            iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"], **kind)["ShardIterator"]
        except streams.exceptions.TrimmedDataAccessException:
            continue
        limit = FIRST_PAGE
        while iterator and read < max_records:
            response = streams.get_records(ShardIterator=iterator, Limit=limit)
            limit = 1000
            page = response.get("Records", [])
            read += len(page)
            for raw in page:
                key = raw.get("dynamodb", {}).get("Keys", {}).get("orderId", {}).get("S")
                if key == order_id:
                    record = _record(raw, shard["ShardId"])
                    found.append(record)
                    if _final(record, item):
                        return StreamRead(found, read, True)
            iterator = response.get("NextShardIterator") if page else None  # an empty page: the shard's tip (or end)
        queue += [(child, None) for child in children.get(shard["ShardId"], [])]  # a closed shard's changes continue there
    return StreamRead(found, read, False)


def dlq_entries(sqs: Any, streams: Any, queue_url: str, order_id: str, sequences: set[str]) -> list[dlq.FailedBatch]:
    """The DLQ's on-failure records covering the order's record (peeked: they stay in the queue).
    A batch covers it when its sequence range holds one of ``sequences``; when none is known the
    batches' records are read back from the stream and their keys compared."""
    covering = []
    for batch in dlq.read_batches(sqs, queue_url):
        if sequences:
            hit = any(int(batch.start_sequence) <= int(s) <= int(batch.end_sequence) for s in sequences)
            if not hit:
                continue
        batch.records = dlq.load_records(streams, batch)
        if sequences or any(dlq.explain(r)["orderId"] == order_id for r in batch.records):
            covering.append(batch)
    return covering


def alarm_changes(cloudwatch: Any, names: list[str], start: datetime, end: datetime) -> list[dict[str, Any]]:
    """State changes of the stack's alarms (``names``; all when empty) between start and end."""
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"HistoryItemType": "StateUpdate", "StartDate": start, "EndDate": end, "MaxRecords": 100}
    for _ in range(10):
        response = cloudwatch.describe_alarm_history(**kwargs)
        items += [i for i in response.get("AlarmHistoryItems", []) if (not names or i.get("AlarmName") in names) and _about_alarm(i)]
        if not response.get("NextToken"):
            break
        kwargs["NextToken"] = response["NextToken"]
    return sorted(items, key=lambda i: i["Timestamp"])


def _about_alarm(item: dict[str, Any]) -> bool:
    """A change into or out of ALARM (not INSUFFICIENT_DATA <-> OK, which says nothing of the order)."""
    summary = str(item.get("HistorySummary", ""))
    return "to ALARM" in summary or "from ALARM" in summary


def firing_alarms(cloudwatch: Any, names: list[str]) -> list[str]:
    """The stack's alarms in ALARM now."""
    if not names:
        return []
    alarms = cloudwatch.describe_alarms(AlarmNames=names[:100]).get("MetricAlarms", [])
    return sorted(a["AlarmName"] for a in alarms if a.get("StateValue") == "ALARM")


def iterator_age_ms(cloudwatch: Any, function_name: str, now: datetime) -> float | None:
    """ProcessOrder's stream lag (``IteratorAge`` maximum over the last 5 minutes), if published."""
    points = cloudwatch.get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName="IteratorAge",
        Dimensions=[{"Name": "FunctionName", "Value": function_name}],
        StartTime=now - timedelta(minutes=5),
        EndTime=now,
        Period=60,
        Statistics=["Maximum"],
    ).get("Datapoints", [])
    return max((p["Maximum"] for p in points), default=None)

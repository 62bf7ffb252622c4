"""DynamoDB stream records in Lambda's event shape, and the sandbox's shard reader."""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
import zlib
from datetime import UTC, datetime
from typing import Any

from orders_lib.sandbox.dynamodb.item_writes import ITEM_WRITES

LOG = logging.getLogger(__name__)


def _plain(value: Any) -> Any:
    """boto3 parsed the wire form; turn it back into JSON-safe values (B as base64)."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, set, tuple)):
        return [_plain(v) for v in value]
    return value


def epoch_seconds(moment: datetime) -> float:
    """moto stamps stream records with naive UTC datetimes; ``timestamp()`` alone
    would read them as local time and age every record by the UTC offset."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


class CompactStreamRecord:
    """A stream record kept as compressed JSON. moto keeps each record's images as
    nested dicts, ~17 KB per order record, and never trims the shard (AWS keeps
    24 h): compacted, 10,000 orders' 30,000 records fit in a few tens of MB."""

    __slots__ = ("_blob", "created")

    def __init__(self, record: dict[str, Any] | None = None, *, text: str | None = None, created: float | None = None):
        if text is None:
            if record is None:
                raise TypeError("a stream record, or its JSON text")
            data = dict(record["dynamodb"])
            when = data.get("ApproximateCreationDateTime")
            if isinstance(when, datetime):
                data["ApproximateCreationDateTime"] = when = epoch_seconds(when)
            created = when if created is None and isinstance(when, (int, float)) else created
            text = json.dumps({**record, "dynamodb": data}, separators=(",", ":"), default=_base64)
        self._blob = zlib.compress(text.encode(), 1)
        self.created: float = time.time() if created is None else created  # epoch seconds (sandbox clock), for retention

    def to_json(self) -> dict[str, Any]:
        """The record as moto's own ``StreamRecord.to_json`` gives it (naive UTC datetime)."""
        record = json.loads(zlib.decompress(self._blob))
        created = record["dynamodb"].get("ApproximateCreationDateTime")
        if isinstance(created, (int, float)):
            record["dynamodb"]["ApproximateCreationDateTime"] = datetime.fromtimestamp(created, UTC).replace(tzinfo=None)
        return record


def _base64(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def wire_attribute(value: Any) -> dict[str, Any]:
    """One of moto's stored ``DynamoType`` values as the wire writes it (``{"S": "x"}``,
    ``{"M": {...}}``, blobs in base64), without ``Item.to_json``'s deep copy of every nested value."""
    kind, inner = value.type, value.value
    if kind == "M":
        return {kind: {name: wire_attribute(member) for name, member in inner.items()}}
    if kind == "L":
        return {kind: [wire_attribute(member) for member in inner]}
    if kind == "B":
        return {kind: _base64(inner) if isinstance(inner, (bytes, bytearray)) else inner}
    if kind == "BS":
        return {kind: [_base64(v) if isinstance(v, (bytes, bytearray)) else v for v in inner]}
    return {kind: inner}


def new_record(
    keys: tuple[str, str | None],
    region: str,
    view_type: str,
    old: Any,
    new: Any,
    sequence_number: int,
    identity: dict[str, str] | None = None,
    kept_from: float | None = None,
) -> CompactStreamRecord:
    """The stream record of one item write (``old`` and ``new`` are moto ``Item``s or None), built
    once and stored compact. It holds what moto's ``StreamRecord`` holds, without building that,
    copying its images and dumping them to JSON twice (~0.25 ms of the sandbox's core per record).

    ``keys``: the table's hash and range key names. ``SizeBytes`` is the length of the record's
    ``dynamodb`` JSON, an overestimate as moto's is (DynamoDB counts names and values).
    ``awsRegion`` is the table's region, where moto's record always said us-east-1. ``kept_from``
    is the write's time on the sandbox clock, which retention counts the record's age from
    (default: its creation time)."""
    event_name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
    item = old if old is not None else new
    created = time.time()
    data: dict[str, Any] = {
        "StreamViewType": view_type,
        "ApproximateCreationDateTime": created,
        "SequenceNumber": str(sequence_number),
        "Keys": {name: wire_attribute(item.attrs[name]) for name in keys if name is not None and name in item.attrs},
    }
    if new is not None and view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
        data["NewImage"] = {name: wire_attribute(value) for name, value in new.attrs.items()}
    if old is not None and view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
        data["OldImage"] = {name: wire_attribute(value) for name, value in old.attrs.items()}
    section = json.dumps(data, separators=(",", ":"))
    section = f'{section[:-1]},"SizeBytes":{len(section)}}}'
    head: dict[str, Any] = {"eventID": uuid.uuid4().hex, "eventName": event_name, "eventSource": "aws:dynamodb", "eventVersion": "1.0"}
    head["awsRegion"] = region
    if identity:
        head["userIdentity"] = identity
    text = f'{json.dumps(head, separators=(",", ":"))[:-1]},"dynamodb":{section}}}'
    return CompactStreamRecord(text=text, created=created if kept_from is None else kept_from)


def horizon(shard: Any) -> int:
    """The sequence number of the oldest record ``shard`` still holds (or of its next one).

    A shard's records are ``shard.items``; ``shard.trimmed`` of them were removed from its front
    by retention (``trim``), so ``items[i]`` has sequence number ``horizon + i``. Read it and the
    records under ``ITEM_WRITES`` when a trim may run meanwhile."""
    return int(shard.starting_sequence_number) + int(getattr(shard, "trimmed", 0))


def trim(shard: Any, before: float) -> int:
    """Remove the records at the front of ``shard`` written before ``before`` (epoch seconds on the
    sandbox clock), as a stream is trimmed from its oldest end; returns how many. The caller holds
    ``ITEM_WRITES`` (writes append records under it). A scan, not a bisection: a reset of the
    sandbox clock can leave later records stamped earlier, and the scan stops at the first young one."""
    items = shard.items
    count = 0
    while count < len(items) and getattr(items[count], "created", before) < before:
        count += 1
    if count:
        del items[:count]
        shard.trimmed = int(getattr(shard, "trimmed", 0)) + count
    return count


def to_event_record(record: dict[str, Any]) -> dict[str, Any]:
    data = dict(record["dynamodb"])
    created = data.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        data["ApproximateCreationDateTime"] = round(epoch_seconds(created), 3)
    event = {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": "1.1",  # what Lambda delivers today (moto's GetRecords says 1.0)
        "eventSource": "aws:dynamodb",
        "dynamodb": _plain(data),
    }
    identity = record.get("userIdentity")
    if identity:  # Lambda's event spells the Streams API's Type / PrincipalId in camel case
        event["userIdentity"] = {"type": identity.get("Type"), "principalId": identity.get("PrincipalId")}
    return event


class MotoStreamReader:
    """Reads a table's stream shard straight from moto's backend, inside the
    sandbox process. The pollers read after every write; over the wire each read
    cost an HTTP round trip plus botocore parsing in the same interpreter as the
    server, about 5 ms of it per write. Iterators are ``ARN|sequence number``
    strings. A position the stream no longer holds (its records outlived the
    24-hour retention before they were read) continues at the oldest record kept,
    as a Lambda mapping does: those records are lost, and a warning says how many."""

    def __init__(self, account: str, region: str):
        self.account, self.region = account, region

    def _shard(self, stream_arn: str) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        table_name, _, label = stream_arn.split(":table/", 1)[1].partition("/stream/")
        table = dynamodb_backends[self.account][self.region].tables.get(table_name)
        if table is None or table.stream_shard is None or table.latest_stream_label != label:
            return None  # the table, or this stream of it, is gone
        return table.stream_shard

    def shard_ids(self, stream_arn: str) -> list[str]:
        shard = self._shard(stream_arn)
        return [shard.id] if shard else []

    def iterator(self, stream_arn: str, shard_id: str, position: str) -> str:
        """``position``: ``TRIM_HORIZON``, ``LATEST`` or ``AFTER_SEQUENCE_NUMBER:<n>``."""
        shard = self._shard(stream_arn)
        if shard is None:
            return f"{stream_arn}|0"
        kind, _, after = position.partition(":")
        if kind == "AFTER_SEQUENCE_NUMBER":
            return f"{stream_arn}|{int(after) + 1}"  # read() carries on at the trim point if that was trimmed
        with ITEM_WRITES:
            first = horizon(shard)
            return f"{stream_arn}|{first + len(shard.items) if kind == 'LATEST' else first}"

    def read(self, iterator: str, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        stream_arn, _, position = iterator.rpartition("|")
        shard = self._shard(stream_arn)
        if shard is None:
            return [], None
        wanted = int(position)
        with ITEM_WRITES:
            first = horizon(shard)
            start = max(wanted, first)
            records = shard.items[start - first : start - first + limit]
        if wanted < first:
            LOG.warning("%s: %d stream record(s) were trimmed (24-hour retention) before they were read", stream_arn, first - wanted)
        return [to_event_record(r.to_json()) for r in records], f"{stream_arn}|{start + len(records)}"

"""DynamoDB Streams' retention in the sandbox: records kept 24 hours, shard iterators 15 minutes.

AWS removes ("trims") a stream's records once they are 24 hours old; a ``GetShardIterator`` at
a sequence number older than the trim point, or a ``GetRecords`` through an iterator whose
records were trimmed after it was returned, fails with ``TrimmedDataAccessException``. A shard
iterator expires 15 minutes after it is returned (``ExpiredIteratorException``).
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetShardIterator.html
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetRecords.html

moto keeps every record and every iterator it ever returned (each ``GetRecords`` answer makes
a new one, ~630 bytes of random id), so a sandbox's memory, and a snapshot of it, grew with its
age. ``StreamRetention.sweep`` trims both, on the sandbox clock (``orders sandbox clock
--advance 25h`` makes a day pass); the TTL sweeper runs it at every sweep. The Streams API
answers as AWS does around the trim point (``get_shard_iterator``, ``shard_records``,
``get_records``, installed by ``moto_patches``). The event source mappings' own reader
(``streams.MotoStreamReader``) continues at the trim point, as a Lambda mapping whose records
expired does.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from moto.core.exceptions import JsonRESTError

from orders_lib.sandbox.dynamodb.item_writes import ITEM_WRITES
from orders_lib.sandbox.dynamodb.streams import horizon, trim

LOG = logging.getLogger(__name__)
RECORD_RETENTION_S = 24 * 3600
ITERATOR_LIFETIME_S = 15 * 60


class TrimmedDataAccess(JsonRESTError):
    def __init__(self, sequence_number: int, oldest: int):
        super().__init__(
            "TrimmedDataAccessException",
            f"The operation attempted to read past the oldest stream record in a shard: sequence number {sequence_number} "
            f"was trimmed (records are kept 24 hours; the oldest kept is {oldest}).",
        )


class ExpiredIterator(JsonRESTError):
    def __init__(self) -> None:
        super().__init__(
            "ExpiredIteratorException",
            "The shard iterator has expired or is unknown: iterators expire 15 minutes after GetShardIterator or GetRecords returned them.",
        )


def stamped_iterator(moto_init: Any) -> Any:
    """moto's ``ShardIterator.__init__``, noting when the iterator was made (its 15 minutes)."""

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        moto_init(self, *args, **kwargs)
        self.created = time.time()

    return init


def shard_records(self: Any, start: int, quantity: int) -> list[dict[str, Any]]:
    """``StreamShard.get``: up to ``quantity`` records from sequence number ``start``."""
    with ITEM_WRITES:
        oldest = horizon(self)
        if int(start) < oldest:
            raise TrimmedDataAccess(int(start), oldest)
        records = self.items[int(start) - oldest : int(start) - oldest + quantity]
    return [record.to_json() for record in records]


def get_shard_iterator(moto_get_shard_iterator: Any) -> Any:
    """``DynamoDBStreamsBackend.get_shard_iterator``, from the trim point on."""

    def get(self: Any, arn: str, shard_id: str, shard_iterator_type: str, sequence_number: Any = None) -> Any:
        iterator = moto_get_shard_iterator(self, arn, shard_id, shard_iterator_type, sequence_number)
        shard = iterator.stream_shard
        with ITEM_WRITES:
            oldest = horizon(shard)
            if shard_iterator_type == "TRIM_HORIZON":
                iterator.sequence_number = oldest
            elif shard_iterator_type == "LATEST":
                iterator.sequence_number = oldest + len(shard.items)
            elif int(sequence_number) < oldest:
                self.shard_iterators.pop(iterator.arn, None)
                raise TrimmedDataAccess(int(sequence_number), oldest)
        return iterator

    return get


def get_records(moto_get_records: Any) -> Any:
    """``DynamoDBStreamsBackend.get_records``; an iterator it no longer knows has expired."""

    def get(self: Any, iterator_arn: str, limit: int) -> Any:
        if iterator_arn not in self.shard_iterators:
            raise ExpiredIterator()
        return moto_get_records(self, iterator_arn, limit)

    return get


class StreamRetention:
    """Trims every stream of one account and region to AWS's retention, on ``sweep(now)``."""

    def __init__(self, account: str, region: str):
        self.account, self.region = account, region
        self.trimmed = 0
        self.expired_iterators = 0

    def sweep(self, now: float) -> int:
        """Remove records written before ``now`` - 24 h and iterators made before ``now`` - 15 min;
        returns how many records were trimmed."""
        from moto.dynamodb.models import dynamodb_backends
        from moto.dynamodbstreams.models import dynamodbstreams_backends

        trimmed = 0
        for table in list(dynamodb_backends[self.account][self.region].tables.values()):
            if table.stream_shard is not None:
                with ITEM_WRITES:
                    trimmed += trim(table.stream_shard, now - RECORD_RETENTION_S)
        iterators = dynamodbstreams_backends[self.account][self.region].shard_iterators
        expired = [arn for arn, iterator in list(iterators.items()) if getattr(iterator, "created", now) < now - ITERATOR_LIFETIME_S]
        for arn in expired:
            iterators.pop(arn, None)
        if trimmed or expired:
            LOG.info("stream retention: %d record(s) trimmed, %d iterator(s) expired", trimmed, len(expired))
        self.trimmed += trimmed
        self.expired_iterators += len(expired)
        return trimmed

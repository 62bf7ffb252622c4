"""A mapping's stream reads under the function's execution role, as Lambda makes them."""

from __future__ import annotations

from typing import Any

from orders_lib.sandbox.iam.enforce import Guard
from orders_lib.sandbox.lambda_.event_source_mapping.shard_poller import ReadRefused, StreamReader


class AuthorizedReader:
    """The mapping's in-process stream reads, each authorized as Lambda's own calls are, with the
    function's execution role: ``DescribeStream``, ``GetShardIterator`` and ``ListStreams`` to start
    reading a shard, ``GetRecords`` for every read."""

    def __init__(self, reader: StreamReader, guard: Guard, function: str):
        self.reader, self.guard, self.function = reader, guard, function

    def _require(self, action: str, resource: str) -> None:
        refusal = self.guard.refuses(self.function, action, resource)
        if refusal is not None:
            raise ReadRefused(refusal.message)

    def shard_ids(self, stream_arn: str) -> list[str]:
        return self.reader.shard_ids(stream_arn)

    def iterator(self, stream_arn: str, shard_id: str, position: str) -> str:
        for action in ("dynamodb:DescribeStream", "dynamodb:GetShardIterator"):
            self._require(action, stream_arn)
        self._require("dynamodb:ListStreams", "*")
        return self.reader.iterator(stream_arn, shard_id, position)

    def read(self, iterator: str, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        self._require("dynamodb:GetRecords", iterator.rpartition("|")[0])
        return self.reader.read(iterator, limit)

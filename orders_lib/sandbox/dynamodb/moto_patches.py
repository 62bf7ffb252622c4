"""Where the sandbox's DynamoDB plugs into moto (5.2.x).

* A stream write (``StreamShard.add``) builds the record compactly (``streams.new_record``) and
  wakes the event source mappings that read the table's stream, instead of building moto's
  ``StreamRecord`` and calling moto's own stream -> Lambda path.
* Stream records are kept 24 hours and shard iterators 15 minutes, as on AWS (``retention``).
* Item writes take one lock (``item_writes.serialized``): DynamoDB's conditional writes are
  atomic, moto's are not.
* Responses of DynamoDB and DynamoDB Streams are serialized with ``AttributeValueSerializer``:
  moto's serializer, but attribute values written directly (``attribute_values``), the same JSON
  at a fraction of the cost (an order's ``UpdateItem`` response took ~4 ms).
* Update and condition expressions are parsed once per text (``expressions``), not twice per
  request.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import moto.core.responses
import moto.dynamodb.comparisons
from moto.core.serialize import ResponseSerializer
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import StreamShard
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]  # moto's module is untyped
from moto.dynamodbstreams.models import DynamoDBStreamsBackend, ShardIterator

from orders_lib.sandbox.dynamodb import retention
from orders_lib.sandbox.dynamodb.attribute_values import AttributeValueSerializer
from orders_lib.sandbox.dynamodb.expressions import CONDITION_MODULES, PARSED_EXPRESSIONS, cached_conditions
from orders_lib.sandbox.dynamodb.item_writes import serialized
from orders_lib.sandbox.dynamodb.streams import horizon, new_record
from orders_lib.sandbox.dynamodb.ttl import user_identity
from orders_lib.sandbox.patching import Patches

_PATCHES = Patches("DynamoDB")
WRITE_METHODS = ("put_item", "update_item", "delete_item", "transact_write_items")
ATTRIBUTE_VALUE_SERVICES = ("dynamodb", "dynamodbstreams")


def install(stream_written: Callable[[str], None], now: Callable[[], float] = time.time) -> None:
    """``stream_written(table_name)`` is called after every stream record is added; ``now`` is the
    sandbox clock, which a record's age for the streams' retention is counted on."""
    _PATCHES.begin()

    def add(self: StreamShard, old: Any, new: Any) -> None:
        table = self.table
        keys = (table.hash_key_attr, table.range_key_attr)
        view_type = (table.stream_specification or {})["StreamViewType"]  # a shard exists only with a stream
        sequence_number = horizon(self) + len(self.items)
        record = new_record(keys, table.region_name, view_type, old, new, sequence_number, user_identity(), kept_from=now())
        self.items.append(record)  # type: ignore[arg-type]  # read back through to_json, as moto's records are
        stream_written(table.name)

    _PATCHES.replace(StreamShard, "add", add)
    _PATCHES.replace(StreamShard, "get", retention.shard_records)
    _PATCHES.replace(ShardIterator, "__init__", retention.stamped_iterator(ShardIterator.__init__))
    streams_backend = DynamoDBStreamsBackend
    _PATCHES.replace(streams_backend, "get_shard_iterator", retention.get_shard_iterator(streams_backend.get_shard_iterator))
    _PATCHES.replace(streams_backend, "get_records", retention.get_records(streams_backend.get_records))
    conditions = cached_conditions(moto.dynamodb.comparisons.create_condition_expression_parser)
    for module in CONDITION_MODULES:
        _PATCHES.replace(module, "create_condition_expression_parser", conditions)
    parse = functools.lru_cache(maxsize=PARSED_EXPRESSIONS)(UpdateExpressionParser.make)
    _PATCHES.replace(UpdateExpressionParser, "make", classmethod(lambda cls, expression: parse(expression)))
    for name in WRITE_METHODS:
        _PATCHES.replace(DynamoDBBackend, name, serialized(getattr(DynamoDBBackend, name)))
    moto_serializer_class = moto.core.responses.get_serializer_class

    def serializer_class(service_name: str, protocol: str) -> type[ResponseSerializer]:
        if protocol == "json" and service_name in ATTRIBUTE_VALUE_SERVICES:
            return AttributeValueSerializer
        return moto_serializer_class(service_name, protocol)

    _PATCHES.replace(moto.core.responses, "get_serializer_class", serializer_class)


def uninstall() -> None:
    _PATCHES.restore()

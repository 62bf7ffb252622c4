"""Where the sandbox's DynamoDB plugs into moto (5.2.x).

* A stream write (``StreamShard.add``) stores the record compactly (``streams``) and wakes the
  event source mappings that read the table's stream, instead of calling moto's own
  stream -> Lambda path (switched off in ``lambda_.moto_patches``).
* DynamoDB's conditional writes are atomic on AWS; moto checks a condition and then writes,
  with nothing in between, so two concurrent ``UpdateItem`` calls could both pass
  ``#status = NEW``. Item writes take one lock (``serialized``), as cheap as it is correct in
  one interpreter.
* Responses of DynamoDB and DynamoDB Streams are serialized with ``AttributeValueSerializer``:
  moto's serializer, but attribute values written directly (``attribute_values``), the same JSON
  at a fraction of the cost (an order's ``UpdateItem`` response took ~4 ms).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import moto.core.responses
from moto.core.serialize import ResponseSerializer
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import StreamShard

from orders_lib.sandbox.dynamodb.attribute_values import AttributeValueSerializer
from orders_lib.sandbox.dynamodb.streams import compact_new_records
from orders_lib.sandbox.dynamodb.ttl import user_identity
from orders_lib.sandbox.patching import Patches

_PATCHES = Patches("DynamoDB")
_ITEM_WRITES = threading.RLock()  # transactions call the single-item writes: re-entrant
WRITE_METHODS = ("put_item", "update_item", "delete_item", "transact_write_items")
ATTRIBUTE_VALUE_SERVICES = ("dynamodb", "dynamodbstreams")


def serialized(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` run under the one lock every item write takes."""

    def write(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _ITEM_WRITES:
            return method(self, *args, **kwargs)

    write.__wrapped__ = method  # type: ignore[attr-defined]
    return write


def install(stream_written: Callable[[str], None]) -> None:
    """``stream_written(table_name)`` is called after every stream record is added."""
    _PATCHES.begin()
    moto_add = StreamShard.add

    def add(self: StreamShard, old: Any, new: Any) -> None:
        moto_add(self, old, new)
        compact_new_records(self.items, user_identity())
        stream_written(self.table.name)

    _PATCHES.replace(StreamShard, "add", add)
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

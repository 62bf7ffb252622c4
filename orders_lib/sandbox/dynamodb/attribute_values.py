"""DynamoDB's attribute values written to the wire without moto's generic serializer walking them.

moto 5.2 serializes every response through botocore's shapes: for each attribute value of each
item it looks up all ten members of the ``AttributeValue`` union, each by two spellings, one
Python call after another (~0.2 ms per attribute; ~4 ms for an order's ``UpdateItem`` with
``ReturnValues=ALL_NEW``, seconds for a ``Scan`` of a few hundred orders). The values moto
hands it (``dynamo_to_dict``) are already in wire form but for blobs, so ``wire_value`` writes
them directly, with the serializer's own rules (strings as ``str``, blobs in base64, booleans as
given, members in the model's order). Anything else (a value that is not such a dict, a ``None``
inside a list or map, an empty name in a map, an unknown member) goes to moto's serializer as before.
"""

from __future__ import annotations

import base64
from typing import Any

from moto.core.model import Shape
from moto.core.serialize import JSONSerializer

ATTRIBUTE_VALUE = "AttributeValue"
MEMBERS = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")  # the model's order
_KNOWN = frozenset(MEMBERS)


class Unusual(ValueError):
    """A value the fast path does not write exactly as moto would: moto's serializer writes it."""


def _string(value: Any) -> Any:
    return str(value) if value not in (None, {}, []) else value  # as JSONSerializer._serialize_type_string


def _blob(value: Any) -> str:
    if isinstance(value, str):
        value = value.encode("utf-8")
    if not isinstance(value, (bytes, bytearray)):
        raise Unusual(f"a blob of type {type(value).__name__}")
    return base64.b64encode(value).strip().decode("utf-8")


def _items(value: Any) -> list[Any]:
    if not isinstance(value, list) or any(item is None for item in value):
        raise Unusual("not a list, or a list holding None")
    return value


def wire_value(value: Any) -> dict[str, Any]:
    """One ``AttributeValue`` (``{"S": "x"}``, ``{"M": {...}}``...) as DynamoDB's JSON protocol writes it."""
    if type(value) is not dict or not value.keys() <= _KNOWN:
        raise Unusual("not an attribute value dict")
    wire: dict[str, Any] = {}
    for member in MEMBERS:
        item = value.get(member)
        if item is None:
            continue
        if member in ("S", "N"):
            wire[member] = _string(item)
        elif member == "B":
            wire[member] = _blob(item)
        elif member in ("SS", "NS"):
            wire[member] = [_string(v) for v in _items(item)]
        elif member == "BS":
            wire[member] = [_blob(v) for v in _items(item)]
        elif member == "M":
            if not isinstance(item, dict) or any(v is None or k == "" for k, v in item.items()):
                raise Unusual("not a map, or a map holding None or an empty name")
            wire[member] = {k: wire_value(v) for k, v in item.items()}
        elif member == "L":
            wire[member] = [wire_value(v) for v in _items(item)]
        else:  # NULL, BOOL: booleans, written as given
            wire[member] = item
    return wire


class AttributeValueSerializer(JSONSerializer):
    """moto's JSON serializer, but for attribute values (DynamoDB and DynamoDB Streams)."""

    def _serialize(self, serialized: Any, value: Any, shape: Shape, key: str) -> None:
        if key and shape.name == ATTRIBUTE_VALUE and value is not None:
            try:
                serialized[self.get_serialized_name(shape, key)] = wire_value(value)
                return
            except Unusual:
                pass
        super()._serialize(serialized, value, shape, key)

"""Where the sandbox's DynamoDB plugs into moto (5.2.x).

* A stream write (``StreamShard.add``) builds the record compactly (``streams.new_record``) and
  wakes the event source mappings that read the table's stream, instead of building moto's
  ``StreamRecord`` and calling moto's own stream -> Lambda path.
* DynamoDB's conditional writes are atomic on AWS; moto checks a condition and then writes,
  with nothing in between, so two concurrent ``UpdateItem`` calls could both pass
  ``#status = NEW``. Item writes take one lock (``serialized``), as cheap as it is correct in
  one interpreter.
* Responses of DynamoDB and DynamoDB Streams are serialized with ``AttributeValueSerializer``:
  moto's serializer, but attribute values written directly (``attribute_values``), the same JSON
  at a fraction of the cost (an order's ``UpdateItem`` response took ~4 ms).
* An ``UpdateExpression`` is parsed once per distinct text, not twice per request (~0.33 ms
  each for an order's): moto's handler and backend both parse it and then only read the tree
  (``find_clauses``; the validator works on its own deep copy), so one parsed tree per text,
  kept in a bounded cache, serves every request that sends that text.
* A ``ConditionExpression`` (or filter) is parsed once per text, names and the values it uses
  (``cached_conditions``): an order's ``PutItem`` and ``UpdateItem`` each parsed theirs twice.
  The parsed tree is only evaluated against items, never changed.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Callable
from typing import Any

import moto.core.responses
import moto.dynamodb.comparisons
import moto.dynamodb.models
import moto.dynamodb.responses
from moto.core.serialize import ResponseSerializer
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import StreamShard
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]  # moto's module is untyped

from orders_lib.sandbox.dynamodb.attribute_values import AttributeValueSerializer
from orders_lib.sandbox.dynamodb.streams import new_record
from orders_lib.sandbox.dynamodb.ttl import user_identity
from orders_lib.sandbox.patching import Patches

_PATCHES = Patches("DynamoDB")
_ITEM_WRITES = threading.RLock()  # transactions call the single-item writes: re-entrant
WRITE_METHODS = ("put_item", "update_item", "delete_item", "transact_write_items")
ATTRIBUTE_VALUE_SERVICES = ("dynamodb", "dynamodbstreams")
PARSED_EXPRESSIONS = 256  # distinct update expression texts kept parsed (an application sends a handful)


def serialized(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` run under the one lock every item write takes."""

    def write(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _ITEM_WRITES:
            return method(self, *args, **kwargs)

    write.__wrapped__ = method  # type: ignore[attr-defined]
    return write


_PLACEHOLDER = re.compile(r":[A-Za-z0-9_]+")
CONDITION_MODULES = (moto.dynamodb.comparisons, moto.dynamodb.models, moto.dynamodb.responses)


class _Uncacheable(Exception):
    """The parser used a value the cache key did not name: parse this request on its own."""


class ParsedCondition:
    """What moto's handler and backend read of a parsed condition: the tree (``parse()``) and the
    names and values it used (copies: a caller may extend the lists it gets)."""

    __slots__ = ("_names", "_tree", "_values")

    def __init__(self, parser: Any):
        self._tree = parser.parse()
        self._names, self._values = tuple(parser.expr_attr_names_found), tuple(parser.expr_attr_values_found)

    def parse(self) -> Any:
        return self._tree

    @property
    def expr_attr_names_found(self) -> list[str]:
        return list(self._names)

    @property
    def expr_attr_values_found(self) -> list[str]:
        return list(self._values)


def cached_conditions(create: Callable[..., Any]) -> Callable[..., Any]:
    """moto's ``create_condition_expression_parser``, parsing once per (expression, names, the
    values its placeholders name). Anything the key cannot hold exactly (values that are not
    plain JSON, a placeholder the pattern does not see) is parsed per request as before."""

    @functools.lru_cache(maxsize=PARSED_EXPRESSIONS)
    def parsed(expression: str, names: tuple[tuple[str, str], ...], values: str) -> ParsedCondition:
        used = dict(json.loads(values))
        condition = ParsedCondition(create(expression, dict(names), used))
        if not set(condition.expr_attr_values_found) <= used.keys():
            raise _Uncacheable
        return condition

    def parser(expression: str | None, names: dict[str, str] | None, values: dict[str, Any] | None) -> Any:
        if expression:
            given = values or {}
            try:
                used = json.dumps([[key, given[key]] for key in sorted(set(_PLACEHOLDER.findall(expression))) if key in given])
                return parsed(expression, tuple(sorted((names or {}).items())), used)
            except (TypeError, ValueError, _Uncacheable):  # bytes in a value, an unhashable name
                pass
        return create(expression, names, values)

    return parser


def install(stream_written: Callable[[str], None]) -> None:
    """``stream_written(table_name)`` is called after every stream record is added."""
    _PATCHES.begin()

    def add(self: StreamShard, old: Any, new: Any) -> None:
        table = self.table
        keys = (table.hash_key_attr, table.range_key_attr)
        view_type = (table.stream_specification or {})["StreamViewType"]  # a shard exists only with a stream
        sequence_number = len(self.items) + self.starting_sequence_number
        record = new_record(keys, table.region_name, view_type, old, new, sequence_number, user_identity())
        self.items.append(record)  # type: ignore[arg-type]  # read back through to_json, as moto's records are
        stream_written(table.name)

    _PATCHES.replace(StreamShard, "add", add)
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

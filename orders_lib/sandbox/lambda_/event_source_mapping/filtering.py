"""Lambda event filtering (FilterCriteria) as the event source mapping applies it.

A pattern is a JSON object; a record matches when every key matches. Leaf values
are lists of alternatives: literal values or one-key operator objects
(``prefix``, ``suffix``, ``anything-but``, ``numeric``, ``exists``,
``equals-ignore-case``). A mapping's filters are OR-ed; no filters match all.
"""

from __future__ import annotations

import json
from typing import Any

_MISSING = object()


def _compare(op: str, left: float, right: float) -> bool:
    return {"=": left == right, "<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]


def _numeric(conditions: list[Any], value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    pairs = zip(conditions[::2], conditions[1::2], strict=True)
    return all(_compare(op, value, bound) for op, bound in pairs)


def _leaf(alternative: Any, value: Any) -> bool:
    if not isinstance(alternative, dict):
        return value is not _MISSING and alternative == value
    ((operator, operand),) = alternative.items()
    if operator == "exists":
        return (value is not _MISSING) == bool(operand)
    if value is _MISSING:
        return False
    if operator == "prefix":
        return isinstance(value, str) and value.startswith(operand)
    if operator == "suffix":
        return isinstance(value, str) and value.endswith(operand)
    if operator == "equals-ignore-case":
        return isinstance(value, str) and value.lower() == str(operand).lower()
    if operator == "numeric":
        return _numeric(operand, value)
    if operator == "anything-but":
        if isinstance(operand, dict):
            return not _leaf(operand, value)
        excluded = operand if isinstance(operand, list) else [operand]
        return value not in excluded
    raise ValueError(f"filter operator {operator!r} is not supported")


def _values(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def matches(pattern: dict[str, Any], event: Any) -> bool:
    for key, rule in pattern.items():
        value = event.get(key, _MISSING) if isinstance(event, dict) else _MISSING
        if isinstance(rule, dict):
            if not matches(rule, value if isinstance(value, dict) else {}):
                return False
        elif isinstance(rule, list):
            if not any(_leaf(alt, v) for alt in rule for v in (_values(value) if value is not _MISSING else [_MISSING])):
                return False
        else:
            raise ValueError(f"filter value for {key!r} must be an object or an array")
    return True


def parse_filter_criteria(criteria: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The patterns in a mapping's ``FilterCriteria`` (each ``Pattern`` is a JSON string)."""
    if not criteria:
        return []
    return [json.loads(entry["Pattern"]) for entry in criteria.get("Filters", []) if entry.get("Pattern")]


def passes(patterns: list[dict[str, Any]], record: dict[str, Any]) -> bool:
    return not patterns or any(matches(pattern, record) for pattern in patterns)

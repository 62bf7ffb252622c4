"""Lambda event filtering: a mapping's ``FilterCriteria``, checked as Lambda checks it when the
mapping is created or updated, and applied to each record as the poller reads it.

Reference: https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html

A mapping has at most five filters (Lambda's default quota), OR-ed; no filters let every
record through. Each ``Pattern`` is a JSON object of at most 4,096 characters whose fields are
AND-ed. A field holds a nested object, or a non-empty array of alternatives any of which may
match: a literal (string, number, true, false, null; ``""`` is "empty") or one of the operators
on Lambda's list: ``equals-ignore-case``, ``anything-but`` (a value, or an array of strings or
of numbers), ``numeric`` (``["=", 100]`` or a range such as ``[">", 10, "<=", 20]``), ``exists``
(true or false, leaf values only), ``prefix`` and ``suffix`` (strings). ``"$or": [{...}, {...}]``,
at any level, holds sub-patterns any of which may match.

Strings match character for character and numbers by their JSON form (300 is not 300.0). A
DynamoDB stream record carries numbers as strings (``{"N": "42"}``), so ``numeric`` never matches
them, as Lambda's DynamoDB filtering page says. What is not on Lambda's list (``wildcard``,
``cidr``, ``prefix`` / ``suffix`` / ``anything-but`` around another operator: EventBridge's) is
refused up front: a poller that meets a pattern it cannot evaluate can only hold its records back.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from typing import Any

MAX_FILTERS = 5  # per event source mapping: Lambda's default quota (raisable to 10 on request)
MAX_PATTERN_CHARS = 4096  # the Lambda API's length limit on Filter.Pattern
OR = "$or"
_MISSING = object()


class InvalidFilterCriteria(ValueError):
    """``FilterCriteria`` that Lambda refuses; the message names the filter and the problem."""


# --- matching ---------------------------------------------------------------------------------

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _same(literal: Any, value: Any) -> bool:
    """Equality as Lambda compares JSON values: ``"1"`` is not ``1``, ``1`` not ``1.0``, ``true`` not ``1``."""
    return type(literal) is type(value) and literal == value


def _numeric(conditions: list[Any], value: Any) -> bool:
    return _is_number(value) and all(_COMPARE[op](value, bound) for op, bound in zip(conditions[::2], conditions[1::2], strict=True))


def _anything_but(excluded: Any, value: Any) -> bool:
    return not any(_same(other, value) for other in (excluded if isinstance(excluded, list) else [excluded]))


# Each operator on Lambda's list but ``exists``, tested against one leaf value of the record.
_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "equals-ignore-case": lambda text, value: isinstance(value, str) and value.casefold() == text.casefold(),
    "prefix": lambda text, value: isinstance(value, str) and value.startswith(text),
    "suffix": lambda text, value: isinstance(value, str) and value.endswith(text),
    "anything-but": _anything_but,
    "numeric": _numeric,
}


def _leaves(value: Any) -> list[Any]:
    """A field's leaf values: an array's elements, and none for an object (an intermediate node) or a missing field."""
    if value is _MISSING or isinstance(value, dict):
        return []
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def _objects(value: Any) -> list[dict[str, Any]]:
    """The objects a nested pattern is matched against: the value, or the objects in an array (DynamoDB's ``L``)."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [found for item in value for found in _objects(item)]
    return []


def _alternative(alternative: Any, leaves: list[Any]) -> bool:
    if not isinstance(alternative, dict):
        return any(_same(alternative, leaf) for leaf in leaves)
    ((name, operand),) = alternative.items()
    if name == "exists":
        return bool(leaves) is operand
    return any(_OPERATORS[name](operand, leaf) for leaf in leaves)


def matches(pattern: dict[str, Any], event: Any) -> bool:
    """True when ``event`` (a record, or an object within one) satisfies every field of ``pattern``."""
    fields = event if isinstance(event, dict) else {}
    for key, rule in pattern.items():
        value = fields.get(key, _MISSING)
        if key == OR:
            satisfied = any(matches(branch, event) for branch in rule)
        elif isinstance(rule, dict):
            satisfied = any(matches(rule, found) for found in _objects(value) or [{}])
        else:
            satisfied = any(_alternative(alternative, _leaves(value)) for alternative in rule)
        if not satisfied:
            return False
    return True


def passes(patterns: list[dict[str, Any]], record: dict[str, Any]) -> bool:
    """Whether Lambda hands ``record`` to the function: it matches one of the mapping's patterns, or there are none."""
    return not patterns or any(matches(pattern, record) for pattern in patterns)


def parse_filter_criteria(criteria: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The patterns of a stored mapping's ``FilterCriteria`` (checked when the mapping was created or updated)."""
    if not criteria:
        return []
    return [json.loads(entry["Pattern"]) for entry in criteria.get("Filters") or [] if entry.get("Pattern")]


# --- validation -------------------------------------------------------------------------------


def _string(operand: Any) -> bool:
    return isinstance(operand, str)


def _excluded(operand: Any) -> bool:
    values = operand if isinstance(operand, list) else [operand]
    return bool(values) and (all(isinstance(v, str) for v in values) or all(_is_number(v) for v in values))


def _range(operand: Any) -> bool:
    """``["=", n]``, one bound (``[">=", n]``), or a lower then an upper bound, lower below upper."""
    if not isinstance(operand, list) or len(operand) not in (2, 4) or not all(_is_number(v) for v in operand[1::2]):
        return False
    if len(operand) == 2:
        return operand[0] in tuple(_COMPARE)
    return operand[0] in (">", ">=") and operand[2] in ("<", "<=") and operand[1] < operand[3]


# What each operator on Lambda's list takes, as a check and as words for the refusal.
_OPERANDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "equals-ignore-case": (_string, "a string"),
    "prefix": (_string, "a string"),
    "suffix": (_string, "a string"),
    "exists": (lambda operand: isinstance(operand, bool), "true or false"),
    "anything-but": (_excluded, "a string, a number, or a non-empty array of strings or of numbers"),
    "numeric": (_range, 'an array such as ["=", 100], ["<", 5] or [">", 10, "<=", 20] (lower bound first, below the upper)'),
}


def _check_alternative(alternative: Any, path: str) -> None:
    if alternative is None or isinstance(alternative, (str, int, float)):
        return
    if not isinstance(alternative, dict) or len(alternative) != 1:
        raise InvalidFilterCriteria(f"{json.dumps(alternative)} is neither a value nor an operator object with one key, at {path}")
    ((name, operand),) = alternative.items()
    if name not in _OPERANDS:
        raise InvalidFilterCriteria(
            f"operator {name!r} is not supported by Lambda event filtering (supported: {', '.join(_OPERANDS)}), at {path}"
        )
    valid, takes = _OPERANDS[name]
    if not valid(operand):
        raise InvalidFilterCriteria(f"{name!r} takes {takes}, not {json.dumps(operand)}, at {path}")


def _check_object(pattern: Any, path: str) -> None:
    if not isinstance(pattern, dict) or not pattern:
        raise InvalidFilterCriteria(f"expected a non-empty JSON object, not {json.dumps(pattern)}, at {path or 'the top level'}")
    for key, rule in pattern.items():
        here = f"{path}.{key}" if path else key
        if key == OR:
            if not isinstance(rule, list) or len(rule) < 2:
                raise InvalidFilterCriteria(f"{OR} takes an array of at least two objects (sub-patterns), at {here}")
            for n, branch in enumerate(rule):
                _check_object(branch, f"{here}[{n}]")
        elif isinstance(rule, dict):
            _check_object(rule, here)
        elif isinstance(rule, list) and rule:
            for alternative in rule:
                _check_alternative(alternative, here)
        else:
            raise InvalidFilterCriteria(f"a field takes an object or a non-empty array, not {json.dumps(rule)}, at {here}")


def validate_filter_criteria(criteria: Any) -> list[dict[str, Any]]:
    """The patterns of ``FilterCriteria``, or ``InvalidFilterCriteria`` for the first thing Lambda would
    refuse. ``None``, ``{}`` and ``{"Filters": []}`` mean no filtering (how a mapping's filters are removed)."""
    if not criteria:
        return []
    filters = (criteria.get("Filters") or []) if isinstance(criteria, dict) else None
    if not isinstance(filters, list):
        raise InvalidFilterCriteria('FilterCriteria takes {"Filters": [{"Pattern": "<a JSON object>"}, ...]}')
    if len(filters) > MAX_FILTERS:
        raise InvalidFilterCriteria(f"FilterCriteria has {len(filters)} filters; an event source mapping takes at most {MAX_FILTERS}")
    patterns = []
    for n, entry in enumerate(filters):
        where = f"Filters[{n}].Pattern"
        text = entry.get("Pattern") if isinstance(entry, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise InvalidFilterCriteria(f"{where} is missing or empty: each filter is a JSON object in a string")
        if len(text) > MAX_PATTERN_CHARS:
            raise InvalidFilterCriteria(f"{where} is {len(text)} characters long; the limit is {MAX_PATTERN_CHARS}")
        try:
            pattern = json.loads(text)
            _check_object(pattern, "")
        except InvalidFilterCriteria as error:
            raise InvalidFilterCriteria(f"{where} is not a valid filter pattern: {error}") from None
        except ValueError as error:
            raise InvalidFilterCriteria(f"{where} is not valid JSON: {error}") from None
        patterns.append(pattern)
    return patterns

"""JSON filter patterns: ``{ $.orderId = "8a0b..." && $.latency > 100 }``.

A pattern between braces tests properties of an event whose message is a JSON object; any other
message never matches, whatever the pattern (even ``NOT EXISTS``). What the sandbox takes from
"Using filter patterns to match terms in JSON log events" in
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html:

* selectors ``$.a.b``, ``$.a[0]``, ``$.a[0][1]``, ``$.['key.with.dots']`` and one wildcard
  (``$.*``, ``$.a[*]``) per selector, three per pattern; property names are letters, digits,
  ``-`` and ``_``;
* ``= !=`` with a string (``*`` at its start or end is a wildcard) or a regex ``%...%`` (two per
  pattern), ``= != < <= > >=`` with a number (scientific notation too), ``IS TRUE``,
  ``IS FALSE``, ``IS NULL``, ``NOT EXISTS``; ``&&`` over ``||``, parentheses.

A selector must reach a string or a number ("value node"): on an array, an object, a boolean,
null or a missing property both ``=`` and ``!=`` are false. A number compares with the number a
string or number holds; text compares with a string, or with a number as the event writes it.
With a wildcard selector a condition holds when one of the values selected meets it.

Rejected as unsupported (``InvalidFilterPattern`` says which): ``EXISTS`` and ``IS NOT`` (the
docs say AWS does not support them), ``!=`` and ``NOT EXISTS`` on a wildcard selector (the docs
leave their meaning open), an unquoted ``true``/``false``/``null`` value, lower-case keywords.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from orders_lib.sandbox.logs.pattern_syntax import (
    AllOf,
    AnyOf,
    Comparison,
    Condition,
    InvalidFilterPattern,
    Scanner,
    Text,
    read_comparison,
    read_expression,
)

_NAME = re.compile(r"[A-Za-z0-9_-]+")
_KEYWORD = re.compile(r"[A-Za-z]+")
_INDEX = re.compile(r"\d+")
MAX_REGEXES = 2
MAX_WILDCARDS = 3
_WILDCARD = None  # the step of a wildcard selector


class JsonNumber(str):
    """A number of the event, as the event writes it (``1e3`` stays ``1e3``)."""


def load_object(message: str) -> dict[str, Any] | None:
    try:
        document = json.loads(message, parse_int=JsonNumber, parse_float=JsonNumber)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


@dataclass(frozen=True)
class Selector:
    text: str
    steps: tuple[str | int | None, ...]  # a property name, an array index, or _WILDCARD

    @property
    def has_wildcard(self) -> bool:
        return _WILDCARD in self.steps

    def select(self, document: Any) -> list[Any]:
        nodes = [document]
        for step in self.steps:
            reached: list[Any] = []
            for node in nodes:
                if step is _WILDCARD:
                    reached.extend(node.values() if isinstance(node, dict) else node if isinstance(node, list) else ())
                elif isinstance(step, int):
                    if isinstance(node, list) and step < len(node):
                        reached.append(node[step])
                elif isinstance(node, dict) and step in node:
                    reached.append(node[step])
            nodes = reached
        return nodes


@dataclass(frozen=True)
class Compare:
    selector: Selector
    comparison: Comparison

    def holds(self, document: Any) -> bool:
        return any(isinstance(value, str) and self.comparison.test(value) for value in self.selector.select(document))


@dataclass(frozen=True)
class Is:
    selector: Selector
    literal: bool | None

    def holds(self, document: Any) -> bool:
        return any(value is self.literal for value in self.selector.select(document))


@dataclass(frozen=True)
class NotExists:
    selector: Selector

    def holds(self, document: Any) -> bool:
        return not self.selector.select(document)


def read_selector(scanner: Scanner) -> Selector:
    scanner.skip_blanks()
    text, start = scanner.text, scanner.pos
    if not text.startswith("$.", start):
        raise scanner.error("expected a property selector starting with $.")
    pos = start + 1
    steps: list[str | int | None] = []
    while pos < scanner.end and text[pos] in ".[":
        if text[pos] == "." and text[pos + 1 : pos + 2] == "*":
            steps.append(_WILDCARD)
            pos += 2
        elif text[pos] == ".":
            if text[pos + 1 : pos + 2] == "[":
                pos += 1
                continue
            name = _NAME.match(text, pos + 1, scanner.end)
            if not name:
                raise InvalidFilterPattern(f"expected a property name after '.' in {text[start : pos + 1]}")
            steps.append(name.group())
            pos = name.end()
        else:
            pos = _read_bracket(text, pos, scanner.end, steps)
    scanner.pos = pos
    selector = Selector(text[start:pos], tuple(steps))
    if not steps:
        raise scanner.error("expected a property after $.")
    if steps.count(_WILDCARD) > 1:
        raise InvalidFilterPattern(f"{selector.text} has more than one wildcard selector: at most one per selector")
    return selector


def _read_bracket(text: str, pos: int, end: int, steps: list[str | int | None]) -> int:
    close = text.find("]", pos, end)
    inside = text[pos + 1 : close].strip() if close > 0 else ""
    if inside == "*":
        steps.append(_WILDCARD)
    elif _INDEX.fullmatch(inside):
        steps.append(int(inside))
    elif len(inside) >= 2 and inside[0] == inside[-1] and inside[0] in "'\"":
        steps.append(inside[1:-1])
    else:
        raise InvalidFilterPattern(f"expected [index], [*] or ['name'] in a selector, at '{text[pos : pos + 20]}'")
    return close + 1


class _ConditionReader:
    """Reads one condition at a time, counting what AWS's quotas count per pattern."""

    def __init__(self) -> None:
        self.regexes = self.wildcards = 0

    def __call__(self, scanner: Scanner) -> Condition:
        selector = read_selector(scanner)
        self.wildcards += selector.has_wildcard
        if self.wildcards > MAX_WILDCARDS:
            raise InvalidFilterPattern(f"more than {MAX_WILDCARDS} wildcard selectors in one pattern")
        mark = scanner.pos
        keyword = scanner.take_match(_KEYWORD)
        if keyword is None:
            comparison = read_comparison(scanner, selector.text, reserved=("true", "false", "null"))
            self.regexes += comparison.is_regex
            if self.regexes > MAX_REGEXES:
                raise InvalidFilterPattern(f"more than {MAX_REGEXES} regular expressions in one JSON pattern")
            if selector.has_wildcard and comparison.operator == "!=":
                raise InvalidFilterPattern(f"!= on the wildcard selector {selector.text} is not supported")
            return Compare(selector, comparison)
        return self._keyword_condition(scanner, selector, keyword, mark)

    @staticmethod
    def _keyword_condition(scanner: Scanner, selector: Selector, keyword: str, mark: int) -> Condition:
        following = scanner.take_match(_KEYWORD)
        phrase = f"{keyword} {following}" if following else keyword
        if phrase in ("IS TRUE", "IS FALSE", "IS NULL"):
            return Is(selector, {"TRUE": True, "FALSE": False, "NULL": None}[following or ""])
        if phrase == "NOT EXISTS":
            if selector.has_wildcard:
                raise InvalidFilterPattern(f"NOT EXISTS on the wildcard selector {selector.text} is not supported")
            return NotExists(selector)
        if keyword == "EXISTS":
            raise InvalidFilterPattern("EXISTS is not supported by CloudWatch Logs: use NOT EXISTS, or = * (any string or number)")
        if phrase == "IS NOT":
            raise InvalidFilterPattern("IS NOT is not supported by CloudWatch Logs")
        scanner.pos = mark
        raise scanner.error(f"expected = != < <= > >=, IS TRUE|FALSE|NULL or NOT EXISTS (upper case) after {selector.text}")


def compile_json(text: str) -> Callable[[str], bool]:
    """``text`` starts with ``{``; the test of a message it compiles to."""
    if not text.endswith("}"):
        raise InvalidFilterPattern("a JSON pattern must end with '}'")
    scanner = Scanner(text, 1, len(text) - 1)
    if scanner.at_end():
        raise InvalidFilterPattern("empty JSON pattern {}")
    expression = read_expression(scanner, _ConditionReader())
    if not scanner.at_end():
        raise scanner.error("expected && or || between conditions")

    needed = clue(expression)

    def matches(message: str) -> bool:
        if needed and "\\" not in message and not any(text in message for text in needed):
            return False  # cannot hold: see ``clue``
        document = load_object(message)
        return document is not None and expression.holds(document)

    return matches


def clue(condition: Condition) -> frozenset[str] | None:
    """Texts of which an event must contain one for ``condition`` to hold, or None when there is
    no such text. Our own shortcut, not AWS's: a JSON pattern is otherwise tested by parsing every
    event, and ``orders trace`` looks for one order among hundreds of thousands of lines.

    ``$.x = "abc"`` (``*`` at either end or none) holds only when a string or number of the event
    contains ``abc``; written without a backslash, JSON keeps that text as it is, so an event
    without a backslash that lacks ``abc`` cannot match (events with one are always parsed).
    ``||`` needs one of its parts' texts, ``&&`` any one part's."""
    if isinstance(condition, Compare):
        value = condition.comparison.value
        usable = condition.comparison.operator == "=" and isinstance(value, Text) and value.core and '"' not in value.core
        return frozenset({value.core}) if usable else None  # type: ignore[union-attr]  # usable: value is a Text
    if isinstance(condition, AnyOf):
        parts = [clue(part) for part in condition.parts]
        return None if any(part is None for part in parts) else frozenset().union(*parts)  # type: ignore[arg-type]
    if isinstance(condition, AllOf):
        known = [part for part in (clue(p) for p in condition.parts) if part is not None]
        return min(known, key=len) if known else None
    return None

"""Space-delimited filter patterns: ``[ip, user, ..., status_code = 4* && status_code != 403, bytes > 1000]``.

The event is cut into fields at blanks (spaces, tabs); text between ``"`` and ``"`` or ``[`` and
``]`` is one field, without them. The pattern names the fields in order between brackets, comma
separated, each with conditions or none. What the sandbox takes from "Using filter patterns to
match terms in space-delimited log events" in
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html:

* without ``...`` the event needs at least as many fields as the pattern names, and the last
  name takes the rest of the event (the docs' ``[w1=ERROR, w2]`` matches
  ``ERROR 09/25/2014 12:00:02 Failed to process request``, and need the blank ``w2`` for it);
* ``...`` stands for any number of fields, zero too: ``[..., status, bytes]`` reads the last two;
* a field's conditions compare it with a string (``*`` at its start or end), a regex ``%...%``
  (two per pattern) or a number (``= != < <= > >=``), joined by ``&&`` and ``||``.

Rejected as unsupported: more than one ``...``, an empty field (``[a,,b]``), and a condition in
one field that names another (``[a, b = 1 && c > 2]``: the docs show conditions on the field
they sit in only).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from orders_lib.sandbox.logs.pattern_syntax import (
    Comparison,
    Condition,
    InvalidFilterPattern,
    Scanner,
    read_comparison,
    read_expression,
)

_FIELD_NAME = re.compile(r"[A-Za-z0-9_]+")
_ENCLOSED = {'"': '"', "[": "]"}
MAX_REGEXES = 2


@dataclass(frozen=True)
class Field:
    value: str  # without the quotes or brackets around it
    start: int  # where it starts in the event, quotes or brackets included


def split_fields(message: str) -> list[Field]:
    fields: list[Field] = []
    pos, end = 0, len(message)
    while True:
        while pos < end and message[pos].isspace():
            pos += 1
        if pos >= end:
            return fields
        start, closer = pos, _ENCLOSED.get(message[pos])
        close = message.find(closer, pos + 1) if closer else -1
        if close > 0 and (close + 1 == end or message[close + 1].isspace()):
            fields.append(Field(message[start + 1 : close], start))
            pos = close + 1
            continue
        while pos < end and not message[pos].isspace():
            pos += 1
        fields.append(Field(message[start:pos], start))


@dataclass(frozen=True)
class FieldIs:
    comparison: Comparison

    def holds(self, text: str) -> bool:
        return self.comparison.test(text) is True


@dataclass(frozen=True)
class Slot:
    name: str | None  # None for "..."
    condition: Condition | None = None

    def accepts(self, text: str) -> bool:
        return self.condition is None or self.condition.holds(text)


class _SlotReader:
    def __init__(self) -> None:
        self.regexes = 0
        self.names: list[str] = []

    def read(self, scanner: Scanner) -> Slot:
        if scanner.take("..."):
            return Slot(None)
        start = scanner.pos
        name = scanner.take_match(_FIELD_NAME)
        if name is not None and (scanner.peek(",") or scanner.at_end()):
            return Slot(name)
        scanner.pos = start
        if scanner.peek(",") or scanner.at_end():
            raise scanner.error("empty field in a space-delimited pattern")
        self.names = []
        condition = read_expression(scanner, self._condition)
        if len(set(self.names)) > 1:
            raise InvalidFilterPattern(f"conditions on {' and '.join(sorted(set(self.names)))} in one field are not supported")
        return Slot(self.names[0], condition)

    def _condition(self, scanner: Scanner) -> Condition:
        name = scanner.take_match(_FIELD_NAME)
        if name is None:
            raise scanner.error("expected a field name (letters, digits, _)")
        self.names.append(name)
        comparison = read_comparison(scanner, name)
        self.regexes += comparison.is_regex
        if self.regexes > MAX_REGEXES:
            raise InvalidFilterPattern(f"more than {MAX_REGEXES} regular expressions in one space-delimited pattern")
        return FieldIs(comparison)


def compile_delimited(text: str) -> Callable[[str], bool]:
    """``text`` starts with ``[``; the test of a message it compiles to."""
    if not text.endswith("]"):
        raise InvalidFilterPattern("a space-delimited pattern must end with ']'")
    scanner, reader, slots = Scanner(text, 1, len(text) - 1), _SlotReader(), []
    if scanner.at_end():
        raise InvalidFilterPattern("empty space-delimited pattern []")
    while True:
        slots.append(reader.read(scanner))
        if scanner.at_end():
            break
        scanner.expect(",", "a field")
    ellipses = [index for index, slot in enumerate(slots) if slot.name is None]
    if len(ellipses) > 1:
        raise InvalidFilterPattern("more than one ... in a space-delimited pattern is not supported")
    ellipsis = ellipses[0] if ellipses else None

    def matches(message: str) -> bool:
        texts = _field_texts(message, len(slots), ellipsis)
        named = [slot for slot in slots if slot.name is not None]
        return texts is not None and all(slot.accepts(text) for slot, text in zip(named, texts, strict=True))

    return matches


def _field_texts(message: str, slots: int, ellipsis: int | None) -> list[str] | None:
    """The text each named field of the pattern reads, in order; None when the event is too short."""
    fields = split_fields(message)
    if ellipsis is None:
        if len(fields) < slots:
            return None
        last = fields[slots - 1]
        rest = last.value if len(fields) == slots else message[last.start :].rstrip()
        return [field.value for field in fields[: slots - 1]] + [rest]
    before, after = ellipsis, slots - ellipsis - 1
    if len(fields) < before + after:
        return None
    return [field.value for field in fields[:before] + fields[len(fields) - after :]]

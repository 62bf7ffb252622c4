"""The pieces CloudWatch Logs filter patterns share: reading the text, values, comparisons,
regular expressions and ``&&``/``||`` expressions.

JSON patterns (``{ $.status = 404 }``) and space-delimited patterns (``[ip, ..., status = 4*]``)
compare a value of the event with the same kinds of values: a string, quoted or not, with ``*``
at its start or end; a number; or a regular expression between ``%``. Both combine comparisons
with ``&&``, ``||`` and parentheses, ``&&`` binding tighter. AWS's syntax, which is the specification:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
(its sections "Supported regular expressions (regex) syntax", "Using filter patterns to match
terms in JSON log events" and "... in space-delimited log events").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# Outside quotes a value may hold letters, digits and "_" (the docs), and "." "*" "+" "-" (its
# own examples: 123.123.*, *.html*, 1e+3); anything else must be quoted.
_UNQUOTED = re.compile(r"[A-Za-z0-9_.*+-]+")
_OPERATORS = ("!=", "<=", ">=", "=", "<", ">")
# What the docs allow between % and %: letters, digits, the symbols : _ # = @ / ; , - and the
# operators ^ $ ? [ ] { } | \ * + . (a space appears in their own examples); no ( ).
_REGEX_CHARACTERS = re.compile(r"[A-Za-z0-9:_#=@/;,\- ^$?\[\]{}|\\*+.]*")
_REGEX_ESCAPES = re.compile(r"\\(?:[dDsSwW]|x[0-9A-Fa-f]{2}|[^A-Za-z0-9])")


class InvalidFilterPattern(ValueError):
    """A pattern CloudWatch Logs rejects, or one the sandbox does not implement (it says which)."""

    def __init__(self, reason: str):
        super().__init__(f"Invalid filter pattern: {reason}")
        self.reason = reason


class Scanner:
    """A cursor over the pattern's text, skipping blanks between tokens."""

    def __init__(self, text: str, start: int = 0, end: int | None = None):
        self.text, self.pos, self.end = text, start, len(text) if end is None else end

    def skip_blanks(self) -> None:
        while self.pos < self.end and self.text[self.pos].isspace():
            self.pos += 1

    def at_end(self) -> bool:
        self.skip_blanks()
        return self.pos >= self.end

    def peek(self, token: str) -> bool:
        self.skip_blanks()
        return self.text.startswith(token, self.pos) and self.pos + len(token) <= self.end

    def take(self, token: str) -> bool:
        if self.peek(token):
            self.pos += len(token)
            return True
        return False

    def expect(self, token: str, after: str) -> None:
        if not self.take(token):
            raise self.error(f"expected '{token}' after {after}")

    def take_match(self, pattern: re.Pattern[str]) -> str | None:
        self.skip_blanks()
        found = pattern.match(self.text, self.pos, self.end)
        if not found or not found.group():
            return None
        self.pos = found.end()
        return found.group()

    def rest(self) -> str:
        return self.text[self.pos : self.end].strip()

    def error(self, reason: str) -> InvalidFilterPattern:
        where = self.rest()
        return InvalidFilterPattern(f"{reason} (at '{where[:40]}')" if where else f"{reason} (at the end)")


def read_quoted(scanner: Scanner) -> str:
    """A double-quoted string, the scanner on its opening quote; ``\\"`` and ``\\\\`` are escapes."""
    scanner.skip_blanks()
    text, pos = scanner.text, scanner.pos + 1
    chars: list[str] = []
    while pos < scanner.end:
        char = text[pos]
        if char == '"':
            scanner.pos = pos + 1
            return "".join(chars)
        if char == "\\":
            following = text[pos + 1 : pos + 2]
            if following not in ('"', "\\"):
                raise InvalidFilterPattern(f"unsupported escape '\\{following}' in a quoted string: only \\\" and \\\\ are supported")
            chars.append(following)
            pos += 2
            continue
        chars.append(char)
        pos += 1
    raise InvalidFilterPattern(f"unterminated quoted string {text[scanner.pos : scanner.end]}")


# -- regular expressions ---------------------------------------------------------------------
def compile_regex(body: str) -> re.Pattern[str]:
    """The regex between ``%`` and ``%``, held to the characters and operators AWS supports."""
    if not body:
        raise InvalidFilterPattern("empty regular expression %%")
    if not body.isascii():
        raise InvalidFilterPattern(f"multi-byte characters are not supported in a regular expression: %{body}%")
    if not _REGEX_CHARACTERS.fullmatch(body):
        bad = sorted({char for char in body if not _REGEX_CHARACTERS.fullmatch(char)})
        raise InvalidFilterPattern(f"unsupported character(s) {' '.join(bad)} in regular expression %{body}% (use \\xhh for symbols)")
    unescaped = _REGEX_ESCAPES.sub("", body)
    if "\\" in unescaped:
        raise InvalidFilterPattern(f"unsupported escape in regular expression %{body}%: use \\d \\D \\s \\S \\w \\W \\xhh, \\symbol")
    # AWS writes the bounded repetition {m, n}; Python's re needs it without the blank.
    python = re.sub(r"\{(\d*)\s*,\s*(\d*)\}", r"{\1,\2}", body)
    try:
        return re.compile(python, re.ASCII)
    except re.error as error:
        raise InvalidFilterPattern(f"invalid regular expression %{body}%: {error}") from error


def read_regex(scanner: Scanner) -> re.Pattern[str]:
    scanner.skip_blanks()
    close = scanner.text.find("%", scanner.pos + 1, scanner.end)
    if close < 0:
        raise InvalidFilterPattern(f"unterminated regular expression {scanner.text[scanner.pos : scanner.end]}")
    body = scanner.text[scanner.pos + 1 : close]
    scanner.pos = close + 1
    return compile_regex(body)


# -- values and comparisons ------------------------------------------------------------------
def as_number(text: str) -> Decimal | None:
    if not NUMBER.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - NUMBER admits only what Decimal reads
        return None


@dataclass(frozen=True)
class Text:
    """A string to equal, ``*`` at its start and/or end matching any text there."""

    core: str
    any_before: bool
    any_after: bool

    @classmethod
    def parse(cls, value: str) -> Text:
        core = value.strip("*")
        if "*" in core:
            raise InvalidFilterPattern(f"'*' inside the value '{value}' is not supported: a wildcard goes at its start or end")
        return cls(core, value.startswith("*"), value.endswith("*"))

    def equals(self, text: str) -> bool:
        if self.any_before and self.any_after:
            return self.core in text
        if self.any_before:
            return text.endswith(self.core)
        if self.any_after:
            return text.startswith(self.core)
        return text == self.core


@dataclass(frozen=True)
class Comparison:
    """``operator value``; ``test`` answers for the text of a field, None when the field is not of
    the kind the value compares with (a number compared with text that is not one)."""

    operator: str
    value: Text | Decimal | re.Pattern[str]

    def test(self, text: str) -> bool | None:
        if isinstance(self.value, Decimal):
            number = as_number(text)
            if number is None:
                return None
            return _ORDER[self.operator](number, self.value)
        found = self.value.equals(text) if isinstance(self.value, Text) else self.value.search(text) is not None
        return found if self.operator == "=" else not found

    @property
    def is_regex(self) -> bool:
        return isinstance(self.value, re.Pattern)


_ORDER: dict[str, Callable[[Decimal, Decimal], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def read_comparison(scanner: Scanner, subject: str, reserved: Sequence[str] = ()) -> Comparison:
    """An operator and its value, after ``subject`` (a selector or a field's name)."""
    operator = next((op for op in _OPERATORS if scanner.take(op)), None)
    if operator is None:
        raise scanner.error(f"expected a comparison (= != < <= > >=) after {subject}")
    scanner.skip_blanks()
    value: Text | Decimal | re.Pattern[str]
    if scanner.peek('"'):
        value = Text.parse(read_quoted(scanner))
    elif scanner.peek("%"):
        value = read_regex(scanner)
    else:
        word = scanner.take_match(_UNQUOTED)
        following = scanner.text[scanner.pos : scanner.pos + 1] if scanner.pos < scanner.end else ""
        if word is None or (following and not following.isspace() and following not in "),]}&|"):
            raise scanner.error(f"the value compared with {subject} must be quoted: only letters, digits and _ . * + - may stand unquoted")
        if word in reserved:
            raise InvalidFilterPattern(f"unquoted {word} after {subject} {operator} is not supported: use IS {word.upper()}")
        number = as_number(word)
        value = number if number is not None else Text.parse(word)
    if operator not in ("=", "!=") and not isinstance(value, Decimal):
        raise InvalidFilterPattern(f"{subject} {operator} compares numbers: the value must be a number")
    return Comparison(operator, value)


# -- && and || -------------------------------------------------------------------------------
class Condition(Protocol):
    def holds(self, subject: Any) -> bool: ...


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Condition, ...]

    def holds(self, subject: Any) -> bool:
        return all(part.holds(subject) for part in self.parts)


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Condition, ...]

    def holds(self, subject: Any) -> bool:
        return any(part.holds(subject) for part in self.parts)


def read_expression(scanner: Scanner, read_condition: Callable[[Scanner], Condition]) -> Condition:
    """``a || b && (c || d)``: ``||`` of ``&&`` of conditions or parenthesised expressions."""
    alternatives = [_read_conjunction(scanner, read_condition)]
    while scanner.take("||"):
        alternatives.append(_read_conjunction(scanner, read_condition))
    return alternatives[0] if len(alternatives) == 1 else AnyOf(tuple(alternatives))


def _read_conjunction(scanner: Scanner, read_condition: Callable[[Scanner], Condition]) -> Condition:
    parts = [_read_operand(scanner, read_condition)]
    while scanner.take("&&"):
        parts.append(_read_operand(scanner, read_condition))
    return parts[0] if len(parts) == 1 else AllOf(tuple(parts))


def _read_operand(scanner: Scanner, read_condition: Callable[[Scanner], Condition]) -> Condition:
    if scanner.take("("):
        inner = read_expression(scanner, read_condition)
        scanner.expect(")", "a parenthesised expression")
        return inner
    if scanner.at_end():
        raise scanner.error("expected a condition")
    return read_condition(scanner)

"""CloudWatch Logs filter patterns, as ``FilterLogEvents``, subscription filters and Live Tail read
them: ``compile_pattern(text).matches(message)``.

The specification is AWS's "Filter pattern syntax for metric filters, subscription filters,
filter log events, and Live Tail":
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
A pattern is one of four kinds, told apart by its first character:

* ``{`` a JSON pattern (``json_patterns``), ``[`` a space-delimited one (``delimited_patterns``);
* ``%`` a regular expression, the whole pattern (``%AUTHORIZED%``), found anywhere in the event;
* anything else terms ("Using filter patterns to match terms in unstructured log events"), each
  found anywhere in the event, case-sensitive: ``ERROR ARGUMENTS`` needs both; ``?ERROR ?WARN``
  either; ``ERROR -ARGUMENTS`` the first without the second; ``"INTERNAL SERVER ERROR"`` the
  phrase. A term outside quotes is letters, digits and ``_``. ``?`` terms next to other terms are
  ignored, as the docs say. An empty pattern and the blank phrase ``" "`` match every event.

``InvalidFilterPattern`` is raised for what AWS rejects and for what the sandbox does not
implement, naming it; the sandbox answers both as AWS answers an invalid pattern. Not
implemented: a pattern of ``-`` terms only (the docs always pair them with a term to match), a
regex beside terms, and the exceptions the JSON and space-delimited modules list.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from orders_lib.sandbox.logs.delimited_patterns import compile_delimited
from orders_lib.sandbox.logs.json_patterns import compile_json
from orders_lib.sandbox.logs.pattern_syntax import InvalidFilterPattern, Scanner, read_quoted, read_regex

__all__ = ["InvalidFilterPattern", "Pattern", "compile_pattern"]

MAX_LENGTH = 1024  # the filterPattern parameter's limit
_TERM = re.compile(r"[A-Za-z0-9_]+")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Pattern:
    text: str
    kind: str  # "everything", "terms", "regex", "json" or "space-delimited"
    test: Callable[[str], bool] = field(repr=False, compare=False)

    def matches(self, message: str) -> bool:
        return self.test(message)


@lru_cache(maxsize=256)
def compile_pattern(text: str) -> Pattern:
    """The pattern ``text`` reads as; ``InvalidFilterPattern`` if AWS or the sandbox rejects it."""
    if len(text) > MAX_LENGTH:
        raise InvalidFilterPattern(f"longer than {MAX_LENGTH} characters")
    stripped = text.strip()
    if not stripped:
        return Pattern(text, "everything", lambda message: True)
    if stripped.startswith("{"):
        return Pattern(text, "json", compile_json(stripped))
    if stripped.startswith("["):
        return Pattern(text, "space-delimited", compile_delimited(stripped))
    if stripped.startswith("%"):
        scanner = Scanner(stripped)
        regex = read_regex(scanner)
        if not scanner.at_end():
            raise InvalidFilterPattern("a regular expression %...% must be the whole pattern, outside JSON and space-delimited patterns")
        return Pattern(text, "regex", lambda message: regex.search(message) is not None)
    return Pattern(text, "terms", _compile_terms(stripped))


def _compile_terms(text: str) -> Callable[[str], bool]:
    scanner = Scanner(text)
    required: list[str] = []
    excluded: list[str] = []
    optional: list[str] = []
    while not scanner.at_end():
        kind = required
        if scanner.take("?"):
            kind = optional
        elif scanner.take("-"):
            kind = excluded
        kind.append(_read_term(scanner))
    if "" in excluded:
        raise InvalidFilterPattern('excluding the blank phrase " " would match no event')
    if excluded and not required:
        raise InvalidFilterPattern("a pattern of excluded (-) terms only is not supported: add a term to match")
    if required:  # the docs: "?" terms beside other terms are ignored
        return lambda message: all(term in message for term in required) and not any(term in message for term in excluded)
    return lambda message: any(term in message for term in optional)


def _read_term(scanner: Scanner) -> str:
    """A term or a quoted phrase; a blank phrase is the empty term, found in every event."""
    if scanner.at_end():
        raise InvalidFilterPattern("expected a term after ? or -")
    if scanner.peek('"'):
        phrase = read_quoted(scanner)
        if scanner.pos < scanner.end and not scanner.text[scanner.pos].isspace():
            raise scanner.error("expected a blank after a quoted phrase")
        return phrase if phrase.strip() else ""
    word = scanner.take_match(_WORD) or ""
    if _TERM.fullmatch(word):
        return word
    if word.startswith("%"):
        raise InvalidFilterPattern("a regular expression %...% must be the whole pattern, outside JSON and space-delimited patterns")
    raise InvalidFilterPattern(f"invalid character(s) in term '{word}': quote a term holding characters other than letters, digits and _")

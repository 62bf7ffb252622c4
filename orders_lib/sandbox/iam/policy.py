"""IAM identity-based policy documents as small frozen values, and IAM's wildcard matching.

Parsing accepts what IAM accepts: a JSON string or a dict, ``Statement`` as one object or a
list, ``Action``/``NotAction``/``Resource``/``NotResource`` as a string or a list, and reports
every problem at once by field path, so a broken role is fixed in one round.
Grammar: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

EFFECTS = ("Allow", "Deny")


class PolicyError(ValueError):
    """A policy document IAM would reject; the message lists every problem by field path."""

    def __init__(self, name: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"policy {name!r} is not a valid identity-based policy: " + "; ".join(problems))


@dataclass(frozen=True)
class Condition:
    """One operator/key pair of a ``Condition`` block; ``values`` are OR-ed, as IAM does."""

    operator: str
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    """One statement. ``not_action``/``not_resource`` say the lists came from NotAction/NotResource."""

    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_action: bool = False
    not_resource: bool = False
    conditions: tuple[Condition, ...] = ()
    sid: str | None = None
    index: int = 0

    @property
    def label(self) -> str:
        """The Sid, or the 1-based position when the statement has none (for reasons and logs)."""
        return self.sid if self.sid else f"#{self.index + 1}"

    def covers_action(self, action: str) -> bool:
        listed = any(action_matches(pattern, action) for pattern in self.actions)
        return not listed if self.not_action else listed


@dataclass(frozen=True)
class Policy:
    name: str
    statements: tuple[Statement, ...]
    version: str | None = None


def parse_policy(document: str | Mapping[str, Any], name: str = "inline-policy") -> Policy:
    """Parse a policy document (JSON text or the decoded dict) into a :class:`Policy`."""
    problems: list[str] = []
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError as error:
            raise PolicyError(name, [f"document is not JSON ({error.msg} at line {error.lineno})"]) from error
    if not isinstance(document, Mapping):
        raise PolicyError(name, ["document must be a JSON object with a Statement"])
    raw = document.get("Statement")
    if raw is None:
        raise PolicyError(name, ["Statement is missing"])
    raw_statements = [raw] if isinstance(raw, Mapping) else raw
    if not isinstance(raw_statements, list) or not raw_statements:
        raise PolicyError(name, ["Statement must be an object or a non-empty list of objects"])
    statements = []
    for index, item in enumerate(raw_statements):
        statement = _statement(item, index, f"Statement[{index}]", problems)
        if statement is not None:
            statements.append(statement)
    if problems:
        raise PolicyError(name, problems)
    version = document.get("Version")
    return Policy(name=name, statements=tuple(statements), version=str(version) if version is not None else None)


def _statement(item: Any, index: int, path: str, problems: list[str]) -> Statement | None:
    if not isinstance(item, Mapping):
        problems.append(f"{path} must be an object")
        return None
    before = len(problems)
    effect = item.get("Effect")
    if effect not in EFFECTS:
        problems.append(f"{path}.Effect must be 'Allow' or 'Deny', not {effect!r}")
    principals = [field for field in ("Principal", "NotPrincipal") if field in item]
    problems.extend(f"{path}.{field} is not allowed in an identity-based policy" for field in principals)
    actions, not_action = _either(item, "Action", "NotAction", path, problems)
    resources, not_resource = _either(item, "Resource", "NotResource", path, problems)
    conditions = _conditions(item.get("Condition"), f"{path}.Condition", problems)
    sid = item.get("Sid")
    if sid is not None and not isinstance(sid, str):
        problems.append(f"{path}.Sid must be a string")
    if len(problems) > before:
        return None
    return Statement(
        effect=str(effect),  # one of EFFECTS: checked above
        actions=actions,
        resources=resources,
        not_action=not_action,
        not_resource=not_resource,
        conditions=conditions,
        sid=sid,
        index=index,
    )


def _either(item: Mapping[str, Any], positive: str, negative: str, path: str, problems: list[str]) -> tuple[tuple[str, ...], bool]:
    if (positive in item) == (negative in item):
        problems.append(f"{path} must have exactly one of {positive} or {negative}")
        return (), False
    field = positive if positive in item else negative
    values = _strings(item[field])
    if values is None or not values:
        problems.append(f"{path}.{field} must be a string or a non-empty list of strings")
        return (), False
    return values, field == negative


def _conditions(raw: Any, path: str, problems: list[str]) -> tuple[Condition, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        problems.append(f"{path} must be an object of operator -> {{key: value(s)}}")
        return ()
    conditions = []
    for operator, block in raw.items():
        if not isinstance(block, Mapping) or not block:
            problems.append(f"{path}.{operator} must be a non-empty object of key -> value(s)")
            continue
        for key, value in block.items():
            values = _strings(value, scalars=True)
            if values is None:
                problems.append(f"{path}.{operator}.{key} must be a string, number, boolean or a list of them")
                continue
            conditions.append(Condition(operator=str(operator), key=str(key), values=values))
    return tuple(conditions)


def _strings(value: Any, scalars: bool = False) -> tuple[str, ...] | None:
    items = value if isinstance(value, list) else [value]
    result = []
    for item in items:
        if isinstance(item, str):
            result.append(item)
        elif scalars and isinstance(item, bool):
            result.append("true" if item else "false")
        elif scalars and isinstance(item, int | float):
            result.append(str(item))
        else:
            return None
    return tuple(result)


# --- wildcard matching -----------------------------------------------------------------------


def action_matches(pattern: str, action: str) -> bool:
    """IAM action match: ``*`` any run, ``?`` one character, case-insensitive (prefix included).

    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
    """
    return _action_regex(pattern).fullmatch(action) is not None


def arn_matches(pattern: str, arn: str) -> bool:
    """IAM ``Resource`` match, case-sensitive: ``*`` and ``?`` stay inside a colon-separated
    segment, except a ``*`` that ends a segment, which may extend across colons. That rule is
    what lets ``...:log-group:NAME:*`` cover log streams and ``table/orders*`` cover the table's
    stream ARNs (whose labels contain colons); ``"*"`` alone matches every resource.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
    """
    return _resource_regex(pattern).fullmatch(arn) is not None


def string_like(pattern: str, value: str) -> bool:
    """``StringLike``: case-sensitive, ``*`` and ``?`` anywhere (colons included)."""
    return _glob_regex(pattern).fullmatch(value) is not None


def arn_like(pattern: str, value: str) -> bool:
    """``ArnLike``/``ArnEquals``: each of the six colon-delimited ARN components is compared
    separately, each may use ``*``/``?``; a value that is not a six-part ARN does not match.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
    """
    wanted, given = pattern.split(":", 5), value.split(":", 5)
    if len(wanted) != 6 or len(given) != 6:
        return False
    return all(string_like(part, actual) for part, actual in zip(wanted, given, strict=True))


@lru_cache(maxsize=1024)
def _action_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(_translate(pattern, star=".*", one="."), re.IGNORECASE | re.DOTALL)


@lru_cache(maxsize=1024)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(_translate(pattern, star=".*", one="."), re.DOTALL)


@lru_cache(maxsize=1024)
def _resource_regex(pattern: str) -> re.Pattern[str]:
    parts = []
    for position, char in enumerate(pattern):
        if char == "*":
            ends_segment = position + 1 == len(pattern) or pattern[position + 1] == ":"
            parts.append(".*" if ends_segment else "[^:]*")
        elif char == "?":
            parts.append("[^:]")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL)


def _translate(pattern: str, star: str, one: str) -> str:
    return "".join(star if char == "*" else one if char == "?" else re.escape(char) for char in pattern)

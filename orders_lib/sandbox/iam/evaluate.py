"""Identity-based policy evaluation, as AWS decides a request within one account: an explicit
Deny in any policy wins, otherwise one Allow is needed, otherwise the request is denied.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html

Conditions are evaluated only where the answer is exact: ``StringEquals``, ``StringNotEquals``,
``StringLike``, ``StringNotLike``, ``ArnEquals``, ``ArnLike``, ``ArnNotEquals``, ``ArnNotLike``,
``Bool`` and ``Null``, with optional ``ForAnyValue:``/``ForAllValues:`` and ``...IfExists``;
condition keys are matched case-insensitively. Anything else is never guessed: an unknown
operator, a policy variable (``${...}``), or a key missing from ``context`` (for operators other
than ``Null`` and ``...IfExists``, which AWS defines for absent keys) makes that statement *not
applicable* whatever its effect, and is listed in ``Decision.unevaluated_conditions`` with the
operator and key, so the caller can log "cannot evaluate condition ...". A Deny that cannot be
evaluated therefore does not deny: treat a decision with unevaluated conditions as uncertain.
Operators: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from orders_lib.sandbox.iam.policy import Condition, Policy, Statement, arn_like, arn_matches, string_like

ContextValue = str | Sequence[str]

# base operator -> (value matcher(policy_value, request_value), negated)
_MATCHERS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (lambda wanted, given: wanted == given, False),
    "StringNotEquals": (lambda wanted, given: wanted == given, True),
    "StringLike": (string_like, False),
    "StringNotLike": (string_like, True),
    "ArnEquals": (arn_like, False),
    "ArnLike": (arn_like, False),
    "ArnNotEquals": (arn_like, True),
    "ArnNotLike": (arn_like, True),
    "Bool": (lambda wanted, given: wanted.lower() == given.lower(), False),
}
_QUALIFIERS = ("ForAnyValue", "ForAllValues")


@dataclass(frozen=True)
class MatchedStatement:
    """The statement that decided the request."""

    policy: str
    sid: str | None
    index: int
    effect: str

    @property
    def label(self) -> str:
        return self.sid if self.sid else f"#{self.index + 1}"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    matched: MatchedStatement | None = None
    unevaluated_conditions: list[str] = field(default_factory=list)

    @property
    def explicit_deny(self) -> bool:
        return self.matched is not None and self.matched.effect == "Deny"


def evaluate(policies: Iterable[Policy], action: str, resource: str, context: Mapping[str, ContextValue] | None = None) -> Decision:
    """Decide ``action`` on ``resource`` for a principal whose identity-based policies are ``policies``.

    ``context`` holds the request's condition keys (``aws:SecureTransport``, ...); a list value
    is a multivalued key, to be tested with ``ForAnyValue:``/``ForAllValues:``.
    """
    request = {key.lower(): value for key, value in (context or {}).items()}
    denies: list[MatchedStatement] = []
    allows: list[MatchedStatement] = []
    unevaluated: list[str] = []
    for policy in policies:
        for statement in policy.statements:
            outcome = _applies(statement, action, resource, request)
            if isinstance(outcome, list):
                unevaluated.extend(f"{why} in policy {policy.name} statement {statement.label}" for why in outcome)
            elif outcome:
                matched = MatchedStatement(policy.name, statement.sid, statement.index, statement.effect)
                (denies if statement.effect == "Deny" else allows).append(matched)
    if denies:
        first = denies[0]
        return Decision(False, f"explicit deny in policy {first.policy} statement {first.label}", first, unevaluated)
    if allows:
        first = allows[0]
        return Decision(True, f"allowed by policy {first.policy} statement {first.label}", first, unevaluated)
    return Decision(False, f"no identity-based policy allows the {action} action", None, unevaluated)


def error_message(principal_arn: str, action: str, resource: str | None, *, explicit_deny: bool = False) -> str:
    """AWS's access-denied text for an identity-based policy (``resource=None`` omits "on resource").
    https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
    """
    on_resource = f" on resource: {resource}" if resource else ""
    why = (
        "with an explicit deny in an identity-based policy"
        if explicit_deny
        else (f"because no identity-based policy allows the {action} action")
    )
    return f"User: {principal_arn} is not authorized to perform: {action}{on_resource} {why}"


def _applies(statement: Statement, action: str, resource: str, request: Mapping[str, ContextValue]) -> bool | list[str]:
    """True/False, or the reasons the statement cannot be evaluated."""
    if not statement.covers_action(action):
        return False
    covered = _covers_resource(statement, resource)
    if covered is not True:
        return covered
    unknown: list[str] = []
    for condition in statement.conditions:
        outcome = _condition(condition, request)
        if outcome is False:
            return False
        if isinstance(outcome, str):
            unknown.append(f"cannot evaluate condition {condition.operator} {condition.key} ({outcome})")
    return unknown or True


def _covers_resource(statement: Statement, resource: str) -> bool | list[str]:
    concrete = [pattern for pattern in statement.resources if "${" not in pattern]
    variables = [pattern for pattern in statement.resources if "${" in pattern]
    hit = any(arn_matches(pattern, resource) for pattern in concrete)
    if hit or not variables:
        return hit != statement.not_resource
    element = "NotResource" if statement.not_resource else "Resource"
    return [f"cannot evaluate {element} {pattern} (policy variable)" for pattern in variables]


def _condition(condition: Condition, request: Mapping[str, ContextValue]) -> bool | str:
    """True/False, or why the condition cannot be evaluated exactly."""
    qualifier, _, base = condition.operator.rpartition(":")
    if qualifier and qualifier not in _QUALIFIERS:
        return "unsupported operator"
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    if any("${" in value for value in condition.values):
        return "policy variable in value"
    given = request.get(condition.key.lower())
    if base == "Null":
        if qualifier or if_exists:
            return "Null takes no set qualifier or IfExists"
        if any(value.lower() not in ("true", "false") for value in condition.values):
            return "Null expects true or false"
        return any((value.lower() == "true") == (given is None) for value in condition.values)
    if base not in _MATCHERS:
        return "unsupported operator"
    if given is None:
        return True if if_exists else "key not in the request context"
    matcher, negated = _MATCHERS[base]

    def holds(value: str) -> bool:
        matched = any(matcher(wanted, value) for wanted in condition.values)
        return not matched if negated else matched

    if not qualifier:
        if not isinstance(given, str):
            return "multivalued key needs ForAnyValue or ForAllValues"
        return holds(given)
    values = [given] if isinstance(given, str) else list(given)
    return any(holds(v) for v in values) if qualifier == "ForAnyValue" else all(holds(v) for v in values)

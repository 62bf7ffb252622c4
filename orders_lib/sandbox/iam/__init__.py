"""IAM for the sandbox, as AWS decides it for a function's execution role.

The pure core: which action on which resource a request asks for (``requests``, ``actions``),
policy parsing and IAM's wildcards (``policy``), identity-policy evaluation (``evaluate``) and each
service's denial (``errors``). Enforcement: ``enforce.Guard`` (per-function credentials, the three
modes, refusals recorded) and ``moto_roles`` (roles and policies read live from the sandbox's
IAM). A mapping's reads under the function's role are in
``lambda_.event_source_mapping.authorized_reader``. The server wires them in.
"""

from orders_lib.sandbox.iam.actions import (
    NotASingleAction,
    UnknownService,
    iam_action,
    requires_authorization,
    transact_actions,
)
from orders_lib.sandbox.iam.errors import denial
from orders_lib.sandbox.iam.evaluate import Decision, MatchedStatement, error_message, evaluate
from orders_lib.sandbox.iam.policy import (
    Condition,
    Policy,
    PolicyError,
    Statement,
    action_matches,
    arn_matches,
    parse_policy,
)
from orders_lib.sandbox.iam.requests import AuthRequest, authorization_requests

__all__ = [
    "AuthRequest",
    "Condition",
    "Decision",
    "MatchedStatement",
    "NotASingleAction",
    "Policy",
    "PolicyError",
    "Statement",
    "UnknownService",
    "action_matches",
    "arn_matches",
    "authorization_requests",
    "denial",
    "error_message",
    "evaluate",
    "iam_action",
    "parse_policy",
    "requires_authorization",
    "transact_actions",
]

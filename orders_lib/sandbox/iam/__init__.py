"""IAM for the sandbox: the pure core that decides whether a function's execution role may make
an AWS call, as AWS decides it (action mapping, policy parsing and matching, identity-policy
evaluation, each service's access-denied error shape, and which action on which resource an
incoming HTTP request asks for). Nothing here imports the server, and nothing enforces yet.
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
from orders_lib.sandbox.iam.requests import AuthRequest, authorization_requests
from orders_lib.sandbox.iam.policy import (
    Condition,
    Policy,
    PolicyError,
    Statement,
    action_matches,
    arn_matches,
    parse_policy,
)

__all__ = [
    "AuthRequest",
    "authorization_requests",
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
    "denial",
    "error_message",
    "evaluate",
    "iam_action",
    "parse_policy",
    "requires_authorization",
    "transact_actions",
]

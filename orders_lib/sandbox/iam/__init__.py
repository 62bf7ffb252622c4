"""IAM for the sandbox: the pure core that decides whether a function's execution role may make
an AWS call, as AWS decides it (action mapping, policy parsing and matching, identity-policy
evaluation, and each service's access-denied error shape). Nothing here imports the server.
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

__all__ = [
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

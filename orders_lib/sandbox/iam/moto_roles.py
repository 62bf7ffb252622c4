"""A function's execution role and its policies, read live from moto's Lambda and IAM backends
(the sandbox's state), for ``enforce.Guard``."""

from __future__ import annotations

import logging

from moto.awslambda.models import lambda_backends
from moto.iam.models import iam_backends

from orders_lib.sandbox.iam.enforce import Principal, RoleSource, parsed
from orders_lib.sandbox.iam.policy import Policy

LOG = logging.getLogger(__name__)


def role_source(account: str, region: str, partition: str = "aws") -> RoleSource:
    def principal(function: str) -> Principal | None:
        try:
            role_arn = lambda_backends[account][region].get_function(function).role
        except Exception:  # noqa: BLE001 - the function is gone: nobody to authorize
            return None
        iam = iam_backends[account][partition]
        try:
            role = iam.get_role_by_arn(role_arn)
        except Exception:  # noqa: BLE001 - a deleted role grants nothing, as on AWS
            return Principal(function, role_arn, ())
        policies: list[Policy | None] = [parsed(f"{role.name}/{name}", document) for name, document in role.policies.items()]
        policies += [_managed(iam, arn) for arn in role.managed_policies]
        boundary = _managed(iam, role.permissions_boundary_arn) if role.permissions_boundary_arn else None
        return Principal(function, role_arn, tuple(p for p in policies if p is not None), boundary)

    return principal


def _managed(iam: object, arn: str) -> Policy | None:
    """The default version of a managed policy; None when moto does not know it (an AWS managed
    policy is loaded only with ``MOTO_IAM_LOAD_MANAGED_POLICIES``): it then grants nothing."""
    policy = getattr(iam, "managed_policies", {}).get(arn)
    if policy is None:
        LOG.warning("managed policy %s is unknown to the sandbox; it grants nothing", arn)
        return None
    document = next((v.document for v in policy.versions if v.is_default), None)
    return parsed(arn, document) if document else None

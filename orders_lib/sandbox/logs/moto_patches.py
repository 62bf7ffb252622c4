"""Where the sandbox's CloudWatch Logs plugs into moto (5.2.x).

``Fn::GetAtt LogGroup.Arn`` is the group's ARN with ``:*`` after it on AWS (the form IAM
policies use for its streams); moto gave it without, so a role granting ``logs:PutLogEvents``
on it covered no stream once IAM was enforced. ``log_group_attribute`` adds it.
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-logs-loggroup.html
"""

from __future__ import annotations

from moto.logs.models import LogGroup

from orders_lib.sandbox.patching import Patches

_PATCHES = Patches("CloudWatch Logs")
_moto_attribute = LogGroup.get_cfn_attribute


def log_group_attribute(self: LogGroup, attribute_name: str) -> str:
    """CloudFormation's ``Arn`` of a log group, ending in ``:*`` as AWS documents it."""
    if attribute_name == "Arn":
        return f"{self.arn}:*"
    return _moto_attribute(self, attribute_name)


def install() -> None:
    _PATCHES.begin()
    _PATCHES.replace(LogGroup, "get_cfn_attribute", log_group_attribute)


def uninstall() -> None:
    _PATCHES.restore()

"""The deployed stack's outputs: the only place resource names come from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ..aws.clients import client
from ..settings import Settings


class StackNotFound(RuntimeError):
    pass


@dataclass(frozen=True)
class StackOutputs:
    values: dict[str, str]

    def __getitem__(self, key: str) -> str:
        try:
            return self.values[key]
        except KeyError:
            raise KeyError(f"stack output {key!r} missing; the stack has {', '.join(sorted(self.values))}") from None

    @property
    def table_name(self) -> str:
        return self["TableName"]

    @property
    def topic_arn(self) -> str:
        return self["TopicArn"]

    @property
    def dlq_url(self) -> str:
        return self["DlqUrl"]

    @property
    def create_function(self) -> str:
        return self["CreateOrderFunctionName"]

    @property
    def process_function(self) -> str:
        return self["ProcessOrderFunctionName"]

    def log_group(self, function: str) -> str:
        return self["CreateOrderLogGroupName" if function == "create" else "ProcessOrderLogGroupName"]


def load_outputs(settings: Settings, cloudformation: Any | None = None) -> StackOutputs:
    cfn = cloudformation or client("cloudformation", settings)
    try:
        stack = cfn.describe_stacks(StackName=settings.stack_name)["Stacks"][0]
    except ClientError as error:
        if "does not exist" not in str(error):
            raise
        hint = "start it with `make sandbox-start`" if settings.is_sandbox else "deploy it with `make deploy`"
        where = f"the sandbox at {settings.endpoint_url}" if settings.is_sandbox else f"AWS ({settings.region})"
        raise StackNotFound(f"stack {settings.stack_name!r} is not deployed on {where}: {hint}") from None
    return StackOutputs({o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])})

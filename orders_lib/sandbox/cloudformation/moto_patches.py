"""CloudFormation as AWS runs it, where moto 5.2.x does not: change sets for the
CDK CLI, and the table settings a template asks for.

A DynamoDB table from a template kept none of ``TimeToLiveSpecification``,
``PointInTimeRecoverySpecification`` and (CloudFormation's spelling of)
``SSESpecification``: ``create_table_from_template`` applies them, so
``DescribeTimeToLive``, ``DescribeContinuousBackups`` and ``DescribeTable``'s
``SSEDescription`` report what was deployed.

``cdk deploy`` and ``cdk bootstrap`` deploy through change sets named
``cdk-deploy-change-set`` for every stack. moto looked change sets up by name
across all stacks, kept executed ones, failed on deleting a missing one, and
left a stack made by a change set without outputs. AWS documents
(https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ExecuteChangeSet.html,
API_DeleteChangeSet.html, API_DescribeChangeSet.html):

* a change set name is unique within its stack; a name is looked up with the
  stack's name or id, an ARN on its own;
* executing a change set deletes every change set of that stack;
* deleting a change set that is not there succeeds while its stack exists;
* a stack updated by a change set has the change set's template, parameters
  and outputs;
* ``UsePreviousValue`` re-uses the value given before (for an SSM parameter
  type, the parameter's name, resolved again), never the resolved value:
  ``cdk deploy`` passes ``BootstrapVersion`` this way on every update.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation.exceptions import CloudFormationError
from moto.cloudformation.models import ChangeSet, CloudFormationBackend, Stack
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult, EmptyResult
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table

from orders_lib.sandbox.patching import Patches

MOTO_APPLY = ChangeSet.apply
MOTO_CREATE_TABLE = Table.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
MOTO_STACK_PARAMETERS = Stack.stack_parameters
_PATCHES = Patches("CloudFormation")


class ChangeSetNotFound(CloudFormationError):
    code = "ChangeSetNotFound"

    def __init__(self, name: str):
        super().__init__(f"ChangeSet [{name}] does not exist")


def find_change_set(backend: CloudFormationBackend, name: str, stack: str | None) -> ChangeSet | None:
    """By ARN, or by name within the stack named or identified by ``stack``."""
    if name in backend.change_sets:
        return backend.change_sets[name]
    return next((cs for cs in backend.change_sets.values() if cs.change_set_name == name and stack in (cs.stack_name, cs.stack_id)), None)


def apply_change_set(self: ChangeSet) -> None:
    """moto's ``ChangeSet.apply``, then the stack takes the change set's template, parameters and outputs."""
    MOTO_APPLY(self)
    stack = self.stack
    stack.template, stack.template_dict = self.template, self.template_dict
    stack.description = self.template_dict.get("Description")
    stack.parameters = self.parameters
    stack.output_map = stack._create_output_map()


def previous_parameters(self: Stack) -> dict[str, Any]:
    """Each parameter as given, else its template default: what ``UsePreviousValue`` re-uses.

    Replaces ``Stack.stack_parameters``, which moto reads only for that and for
    telling an update with nothing new apart.
    """
    slots = (self.template_dict or {}).get("Parameters", {})
    return {**{key: slot["Default"] for key, slot in slots.items() if "Default" in slot}, **self.parameters}


# Replacements for ``CloudFormationResponse`` methods (``self`` is the response object).
def describe_change_set(self: Any) -> ActionResult:
    name = self._get_param("ChangeSetName")
    change_set = find_change_set(self.cloudformation_backend, name, self._get_param("StackName"))
    if change_set is None:
        raise ChangeSetNotFound(name)
    return ActionResult(change_set)


def delete_change_set(self: Any) -> EmptyResult:
    backend = self.cloudformation_backend
    change_set = find_change_set(backend, self._get_param("ChangeSetName"), self._get_param("StackName"))
    if change_set is not None:
        del backend.change_sets[change_set.change_set_id]
    return EmptyResult()


def execute_change_set(self: Any) -> EmptyResult:
    backend = self.cloudformation_backend
    name = self._get_param("ChangeSetName")
    change_set = find_change_set(backend, name, self._get_param("StackName"))
    if change_set is None:
        raise ChangeSetNotFound(name)
    backend.execute_change_set(change_set_name=change_set.change_set_id, stack_name=change_set.stack_name)
    for other in [cs for cs in backend.change_sets.values() if cs.stack_id == change_set.stack_id]:
        del backend.change_sets[other.change_set_id]
    return EmptyResult()


def create_table_from_template(
    cls: type[Table], resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
) -> Table:
    """moto's table from a template, with its TTL, point-in-time recovery and encryption settings."""
    properties = dict(cloudformation_json["Properties"])
    sse = properties.pop("SSESpecification", None)
    if sse:  # CloudFormation says SSEEnabled where the API says Enabled
        properties["SSESpecification"] = {
            "Enabled": bool(sse.get("SSEEnabled")),
            "SSEType": sse.get("SSEType", "KMS"),
            **({"KMSMasterKeyId": sse["KMSMasterKeyId"]} if sse.get("KMSMasterKeyId") else {}),
        }
    table = MOTO_CREATE_TABLE(cls, resource_name, {**cloudformation_json, "Properties": properties}, account_id, region_name, **kwargs)
    backend = dynamodb_backends[account_id][region_name]
    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled") and ttl.get("AttributeName"):
        backend.update_time_to_live(table.name, {"Enabled": True, "AttributeName": ttl["AttributeName"]})
    pitr = properties.get("PointInTimeRecoverySpecification") or {}
    if pitr.get("PointInTimeRecoveryEnabled"):
        backend.update_continuous_backups(table.name, {"PointInTimeRecoveryEnabled": True})
    return table


def install() -> None:
    _PATCHES.begin()
    _PATCHES.replace(ChangeSet, "apply", apply_change_set)
    _PATCHES.replace(Table, "create_from_cloudformation_json", classmethod(create_table_from_template))
    _PATCHES.replace(Stack, "stack_parameters", property(previous_parameters))
    for name, value in (
        ("describe_change_set", describe_change_set),
        ("delete_change_set", delete_change_set),
        ("execute_change_set", execute_change_set),
    ):
        _PATCHES.replace(CloudFormationResponse, name, value)


def uninstall() -> None:
    _PATCHES.restore()

"""CloudFormation change sets as AWS runs them, for the CDK CLI (moto 5.2.x fixes).

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
from moto.core.responses import ActionResult, EmptyResult

MOTO_APPLY = ChangeSet.apply
MOTO_STACK_PARAMETERS = Stack.stack_parameters


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

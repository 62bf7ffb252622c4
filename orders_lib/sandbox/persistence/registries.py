"""Which of moto's registries hold state, and how a snapshot names them (moto 5.2.x).

moto keeps each service's state in a module-level ``BackendDict``: ``{account: {region:
backend}}``, an ``AccountSpecificBackend`` per account that makes a region's backend the first
time it is asked for (``moto/core/base_backend.py``). ``BackendDict._instances`` lists every
registry that has had an account made in it: the list moto's own ``BackendDict.reset`` walks to
reset what a test used. The registries in use are those of that list that hold at least one
backend; importing a service's module or asking for an account makes nothing worth keeping.

A registry is named by the module attribute that holds it, ``moto.dynamodb.models:
dynamodb_backends``: other modules hold references to that same object (``from moto.sqs import
sqs_backends`` in SNS), so a restore fills it where it is instead of replacing it.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from moto.core.base_backend import BackendDict, BaseBackend

# What ``BackendDict.__init__`` sets from its arguments (its backend class, service name, regions,
# its id). Any other attribute of a registry is state: S3's ``bucket_accounts`` (which account
# owns each bucket name: one namespace for all accounts), Organizations' ``master_accounts``.
_OWN_ATTRIBUTES = frozenset(vars(BackendDict(BaseBackend, "probe")))


def in_use() -> dict[str, Any]:
    """Every registry holding at least one backend, by name (``module:attribute``)."""
    found = {}
    for registry in _listed():
        if any(dict.values(holder) for holder in dict.values(registry)):
            found[name_of(registry)] = registry
    return found


def name_of(registry: Any) -> str:
    """``module:attribute`` of the module attribute that holds ``registry``: the backend class's
    module first (where moto defines each one), then any loaded ``moto`` module."""
    first = registry.backend.__module__
    for module_name in [first, *sorted(name for name in list(sys.modules) if name.startswith("moto.") and name != first)]:
        module = sys.modules.get(module_name)
        for attribute, value in list(vars(module).items()) if module is not None else ():
            if value is registry:
                return f"{module_name}:{attribute}"
    raise LookupError(f"no loaded moto module holds the {registry.service_name} registry: a restore could not find it")


def live(name: str) -> Any:
    """The registry named ``name`` in this process (its module imported if need be)."""
    module_name, _, attribute = name.partition(":")
    registry = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(registry, BackendDict):
        raise LookupError(f"{name} is not a moto registry in this moto version")
    return registry


def state_of(registry: Any) -> dict[str, Any]:
    """What a registry holds: its backends (plain dicts: the registry objects stay in moto) and
    its attributes of state."""
    return {
        "backends": {account: dict(dict.items(holder)) for account, holder in dict.items(registry) if dict.__len__(holder)},
        "attributes": {key: value for key, value in vars(registry).items() if key not in _OWN_ATTRIBUTES},
    }


def fill(registry: Any, state: dict[str, Any]) -> None:
    """Put ``state`` (from ``state_of``) into a registry that ``BackendDict.reset`` emptied.
    Each account's holder is made by the registry itself, so moto lists the registry in use again."""
    for account, backends in state["backends"].items():
        dict.update(registry[account], backends)
    for key, value in state["attributes"].items():
        setattr(registry, key, value)


def holder_named(holder: Any) -> tuple[str, str]:
    """(registry name, account) of an account's holder (``AccountSpecificBackend``)."""
    account: str = holder.account_id
    for registry in _listed():
        if dict.get(registry, account) is holder:
            return name_of(registry), account
    raise LookupError(f"the {holder.service_name} holder of account {account} is in no registry")


def _listed() -> list[Any]:
    """moto's list of the registries in use (``BackendDict._instances``), as it is now."""
    return list(vars(BackendDict)["_instances"])

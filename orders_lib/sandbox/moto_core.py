"""The sandbox's changes to moto's core (5.2.x), not to one service.

* moto's server lists its own package folder on every request, under a lock, to route it
  (``list_of_moto_modules``); the list is fixed while a process runs, so it is read once.
* moto's ``BaseModel`` keeps every model instance it ever made in a class list (for its
  dashboard); every copy of every DynamoDB item and stream record stayed alive, about 50 KB
  per order. Only S3, which reads those lists to clean up, keeps tracking.
* moto finds an action's handler method by listing every function of the response class with
  ``inspect.getmembers`` on every request (~2 % of the sandbox's CPU under load); a class's
  methods are fixed while a sandbox runs, so the list is made once per class.
"""

from __future__ import annotations

import functools
from typing import Any

import moto.backends
import moto.core.responses
from moto.core.common_models import BaseModel

from orders_lib.sandbox.patching import Patches

_PATCHES = Patches("moto core")


def install() -> None:
    _PATCHES.begin()
    modules = tuple(moto.backends.list_of_moto_modules())
    tracked_new = vars(BaseModel)["__new__"].__func__

    def new_model(cls: type, *args: Any, **kwargs: Any) -> Any:
        if cls.__module__.startswith("moto.s3."):
            return tracked_new(cls, *args, **kwargs)
        return object.__new__(cls)

    _PATCHES.replace(moto.backends, "list_of_moto_modules", lambda: modules)
    _PATCHES.replace(moto.core.responses, "method_names_from_class", functools.cache(moto.core.responses.method_names_from_class))
    _PATCHES.replace(BaseModel, "__new__", staticmethod(new_model))


def uninstall() -> None:
    _PATCHES.restore()

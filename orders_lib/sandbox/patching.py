"""How the sandbox changes moto's classes, and puts them back: one small ledger per service.

Each service package's ``moto_patches`` replaces a few attributes of moto's classes (moto
5.2.x) while a sandbox runs in the process. A ``Patches`` records what it replaced, exactly as
it was found (a ``staticmethod`` or ``classmethod`` stays one), so ``restore`` leaves moto as
it was and a second sandbox in the same process (tests) starts from moto's own code.
"""

from __future__ import annotations

from typing import Any

_ABSENT = object()


class AlreadyPatched(RuntimeError):
    """A service's patches were installed twice in one process: one sandbox per process."""


class Patches:
    def __init__(self, service: str):
        self.service = service
        self._saved: list[tuple[Any, str, Any]] = []

    @property
    def installed(self) -> bool:
        return bool(self._saved)

    def begin(self) -> None:
        """Called first by an ``install``: refuses a second installation."""
        if self._saved:
            raise AlreadyPatched(f"the sandbox's {self.service} patches are already installed in this process")

    def replace(self, owner: Any, name: str, value: Any) -> Any:
        """Set ``owner.name`` to ``value``; returns what ``owner.name`` gave before, if anything."""
        previous = getattr(owner, name, None)
        self._saved.append((owner, name, vars(owner).get(name, _ABSENT)))
        setattr(owner, name, value)
        return previous

    def restore(self) -> None:
        for owner, name, value in reversed(self._saved):
            if value is _ABSENT:
                delattr(owner, name)
            else:
                setattr(owner, name, value)
        self._saved.clear()

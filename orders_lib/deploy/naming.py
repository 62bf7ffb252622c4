"""One home for the stack's and its resources' names, used by the CDK app and
by the deploy helpers and the `orders` command line: ``techtest-orders`` without a stage,
``techtest-orders-dev`` (every name suffixed) with ``stage="dev"``."""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "techtest"
_STAGE = re.compile(r"^[a-z][a-z0-9-]{0,19}$")


@dataclass(frozen=True)
class ResourceNames:
    stage: str | None = None

    def __post_init__(self) -> None:
        if self.stage is not None and not _STAGE.match(self.stage):
            raise ValueError(f"stage {self.stage!r} is not allowed: use 1-20 lowercase letters, digits or '-', starting with a letter")

    def _name(self, base: str) -> str:
        return f"{PREFIX}-{base}-{self.stage}" if self.stage else f"{PREFIX}-{base}"

    @property
    def stack(self) -> str:
        return self._name("orders")

    @property
    def table(self) -> str:
        return self._name("orders")

    @property
    def topic(self) -> str:
        return self._name("order-notifications")

    @property
    def dlq(self) -> str:
        return self._name("orders-dlq")

    @property
    def create_function(self) -> str:
        return self._name("create-order")

    @property
    def process_function(self) -> str:
        return self._name("process-order")

    @property
    def key_alias(self) -> str:
        return f"alias/{self._name('orders')}"

    @property
    def alarms_topic(self) -> str:
        """Operations alerts: separate from the order notifications, which are customer events."""
        return self._name("orders-alarms")

    @property
    def dashboard(self) -> str:
        return self._name("orders")

    def alarm(self, what: str) -> str:
        """``techtest-orders-<what>`` (``-<stage>`` after it with a stage)."""
        return self._name(f"orders-{what}")

    def log_group(self, function_name: str) -> str:
        return f"/aws/lambda/{function_name}"


def names_for(stage: str | None) -> ResourceNames:
    return ResourceNames(stage or None)

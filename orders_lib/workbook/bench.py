"""The workbook's connection to a target: settings, clients, stack outputs."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import boto3
import pandas as pd

from ..aws.clients import client, new_client
from ..aws.repository import OrderRepository
from ..ops.orders import ORDER_COLUMNS, CreateResult, invoke_create, order_rows
from ..ops.stack import StackOutputs, load_outputs
from ..settings import Settings


@dataclass
class Workbench:
    settings: Settings
    _outputs: StackOutputs | None = field(default=None, repr=False)

    @classmethod
    def connect(
        cls, target: str = "sandbox", stack: str | None = None, endpoint: str | None = None, region: str | None = None
    ) -> Workbench:
        """One call from a notebook's parameters to a working connection.

        On AWS the credentials are checked first (one STS call): without usable ones this raises
        ``NoAwsCredentials`` saying what to configure, in the notebook's first cell, instead of
        an error deep inside a deploy.
        """
        settings = Settings.from_env(target=target, stack_name=stack, endpoint_url=endpoint, region=region)
        if not settings.is_sandbox:
            from ..deploy.credentials import caller_identity

            caller_identity(boto3.session.Session(region_name=settings.region))
        return cls(settings)

    def client(self, service: str) -> Any:
        return client(service, self.settings)

    def new_client(self, service: str) -> Any:
        """A client of its own, for each concurrent caller of a load run."""
        return new_client(service, self.settings)

    @property
    def outputs(self) -> StackOutputs:
        if self._outputs is None:
            self._outputs = load_outputs(self.settings)
        return self._outputs

    def refresh(self) -> None:
        self._outputs = None
        self.__dict__.pop("repository", None)

    @cached_property
    def repository(self) -> OrderRepository:
        return OrderRepository(self.client("dynamodb"), self.outputs.table_name)

    def create(self, request: Any) -> CreateResult:
        return invoke_create(self.client("lambda"), self.outputs.create_function, request)

    def orders_frame(self, limit: int = 20) -> pd.DataFrame:
        return pd.DataFrame(order_rows(self.repository, limit), columns=list(ORDER_COLUMNS))

    def status_counts(self) -> dict[str, int]:
        rows = order_rows(self.repository, limit=10_000)
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        return dict(sorted(counts.items()))

    def wait_processed(self, order_ids: list[str], timeout_s: float = 30.0, notified: bool = True) -> dict[str, int]:
        """Wait until the given orders are PROCESSED (and notified); returns the final tally."""
        deadline = time.monotonic() + timeout_s
        pending = set(order_ids)
        while pending and time.monotonic() < deadline:
            for order_id in list(pending):
                item = self.repository.get_item(order_id)
                if item and item.get("status") == "PROCESSED" and (item.get("notifiedAt") or not notified):
                    pending.discard(order_id)
            if pending:
                time.sleep(0.2)
        return {"done": len(order_ids) - len(pending), "pending": len(pending)}

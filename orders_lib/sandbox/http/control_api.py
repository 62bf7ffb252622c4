"""The sandbox's own API under ``/_sandbox/``: health, and the switches tests and people turn.

``GET /_sandbox/<path>`` reads, ``POST`` with a JSON object changes (unknown keys are refused):

* ``health``: the process's status (what ``orders sandbox status`` shows);
* ``chaos``: fault injection (``{"reset": true}`` first, then the switches to set);
* ``capacity``: workers and queue per function (``max_workers``, ``max_queue``);
* ``clock``: the TTL clock (``advance`` as ``7d``, ``90m``...; ``reset``); a change sweeps now;
* ``iam``: how the functions' roles are enforced (``mode``, ``reset``); ``?function=NAME`` adds
  the credentials that function's calls are signed with;
* ``workers`` (``?function=NAME``): the warm workers' process ids;
* ``mappings``: each event source mapping's pollers and their counters.

Answered on the event loop: every handler is quick and never blocks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from orders_lib.sandbox.chaos import Chaos
from orders_lib.sandbox.dynamodb.retention import StreamRetention
from orders_lib.sandbox.dynamodb.ttl import SandboxClock, TtlSweeper, parse_duration
from orders_lib.sandbox.iam.enforce import Guard
from orders_lib.sandbox.lambda_.invocation.capacity import Capacity
from orders_lib.sandbox.lambda_.invocation.runtime import LambdaRuntime

Changes = dict[str, Any] | None  # the POSTed object; None for a GET
Args = dict[str, str]


def _refuse_unknown(what: str, changes: dict[str, Any]) -> None:
    if changes:
        raise ValueError(f"unknown {what} settings: {sorted(changes)}")


class ControlApi:
    def __init__(
        self,
        *,
        status: Callable[[], dict[str, Any]],
        chaos: Chaos,
        capacity: Capacity,
        runtime: LambdaRuntime,
        clock: SandboxClock,
        ttl: TtlSweeper,
        guard: Guard,
        mappings: Callable[[], dict[str, Any]],
        retention: StreamRetention | None = None,
        snapshot: Callable[[], dict[str, Any]] | None = None,
        deploy: Callable[[], dict[str, Any]] | None = None,
    ):
        """``snapshot()`` starts a snapshot in the background and says so (``POST /_sandbox/snapshot``)."""
        self._status, self.chaos, self.capacity, self.runtime = status, chaos, capacity, runtime
        self.clock, self.ttl, self.guard, self._mappings = clock, ttl, guard, mappings
        self.retention, self._snapshot, self._deploy = retention, snapshot, deploy
        self._routes: dict[str, Callable[[Changes, Args], Any]] = {
            "health": lambda changes, args: self._status(),
            "chaos": self._chaos,
            "capacity": self._capacity,
            "clock": self._clock,
            "iam": self._iam,
            "workers": lambda changes, args: {"pids": self.runtime.worker_pids(args.get("function"))},
            "mappings": lambda changes, args: self._mappings(),
            "snapshot": self._snapshot_route,
            "deploy": self._deploy_route,
        }

    def __call__(self, method: str, path: str, query: str, body: bytes) -> tuple[int, Any]:
        """``(HTTP status, JSON body)`` for ``/_sandbox/<path>``."""
        args = {key: values[0] for key, values in parse_qs(query).items()}
        route = self._routes.get(path)
        if route is None:
            return 404, {"error": f"unknown control path {path!r}"}
        try:
            changes = (json.loads(body) if body else {}) if method == "POST" else None
            if changes is not None and not isinstance(changes, dict):
                raise ValueError("the body must be a JSON object")
            return 200, route(changes, args)
        except (ValueError, TypeError) as error:
            return 400, {"error": str(error)}

    def _chaos(self, changes: Changes, args: Args) -> Any:
        if changes is not None:
            if changes.pop("reset", False):
                self.chaos.reset()
            self.chaos.update(changes)
        return self.chaos.to_dict()

    def _capacity(self, changes: Changes, args: Args) -> Any:
        if changes is not None:
            limits = self.capacity.set_limits(changes.pop("max_workers", None), changes.pop("max_queue", None))
            self.runtime.max_workers = limits.max_workers
            _refuse_unknown("capacity", changes)
        return self.capacity.snapshot()

    def _clock(self, changes: Changes, args: Args) -> Any:
        if changes is not None:
            if changes.pop("reset", False):
                self.clock.reset()
            self.clock.advance(parse_duration(str(changes.pop("advance", "0"))))
            _refuse_unknown("clock", changes)
            self.ttl.wake.set()  # sweep now, not at the next interval
        state = {**self.clock.to_dict(), "ttl_interval_s": self.ttl.interval_s, "ttl_deleted": self.ttl.deleted}
        if self.retention:
            state.update(stream_records_trimmed=self.retention.trimmed, stream_iterators_expired=self.retention.expired_iterators)
        return state

    def _snapshot_route(self, changes: Changes, args: Args) -> Any:
        if self._snapshot is None:
            raise ValueError("this sandbox keeps no state (started without persistence)")
        if changes is None:
            raise ValueError("POST to take a snapshot; GET /_sandbox/health shows the last one")
        _refuse_unknown("snapshot", changes)
        return self._snapshot()

    def _deploy_route(self, changes: Changes, args: Args) -> Any:
        if self._deploy is None or changes is None:
            raise ValueError("POST to deploy the current code; GET /_sandbox/health shows how it went")
        _refuse_unknown("deploy", changes)
        return self._deploy()

    def _iam(self, changes: Changes, args: Args) -> Any:
        if changes is not None:
            if changes.pop("reset", False):
                self.guard.reset()
            self.guard.set_mode(changes.pop("mode", self.guard.mode))
            _refuse_unknown("IAM", changes)
        if "function" in args:  # to try a call as the function makes it (tests, troubleshooting)
            return {**self.guard.snapshot(), "credentials": self.guard.identities.credentials(args["function"])}
        return self.guard.snapshot()

"""Function concurrency, as Lambda counts it, on a machine with a few workers.

On AWS a function runs as many invocations at once as its concurrency limit
allows (the account's 1,000, or its ``ReservedConcurrentExecutions``) and
refuses the next one at once with ``TooManyRequestsException`` (HTTP 429).
The sandbox has only ``max_workers`` warm processes per function, so an
invocation AWS would already be running may have to wait for one here: it
waits in a FIFO queue, bounded by ``max_queue``. Past the limit (running +
waiting), it is refused as AWS refuses it. Waiting holds no thread: a caller
gets a ``concurrent.futures.Future`` that resolves to a ``Ticket`` when a
worker is free, which it can await (the HTTP front end) or block on (the
stream pollers).

* Synchronous invocations (``RequestResponse``, event source mappings) are
  bounded; ``Event`` invocations join the same FIFO but are never refused:
  Lambda keeps them in its own queue and retries throttles for up to 6 hours
  (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html).
* Reserved concurrency R caps running invocations at R, and the limit at R
  (``0`` throttles every synchronous invocation and holds ``Event`` ones)
  (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
* The error carries the ``Reason`` and ``Type`` Lambda sends
  (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html).
"""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["sync", "event"]

ACCOUNT_CONCURRENCY = 1000  # Lambda's default concurrency quota per account and region


def default_max_workers() -> int:
    """Two warm processes per core, at least 2 and at most 8.

    Every AWS call a function makes is served by the one sandbox interpreter, so
    a function waits on it about half the time: two per core keep both busy on
    a 2-core machine. More only add memory (~50 MB each) and GIL contention.
    """
    return min(8, max(2, 2 * (os.cpu_count() or 1)))


# 256 queued: 200 clients fit, and at the sandbox's rate (~60 CreateOrder
# invocations/s on 2 cores) the last in line waits ~4 s, far inside botocore's
# 60 s read timeout. A client that timed out would retry an invocation that is
# still going to run, and run it twice.
DEFAULT_MAX_QUEUE = 256


@dataclass(frozen=True)
class Limits:
    max_workers: int = field(default_factory=default_max_workers)
    max_queue: int = DEFAULT_MAX_QUEUE

    def __post_init__(self) -> None:
        if self.max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, got {self.max_workers}")
        if self.max_queue < 0:
            raise ValueError(f"max_queue must be 0 or more, got {self.max_queue}")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: int | None) -> Limits:
        """``ORDERS_SANDBOX_MAX_WORKERS`` / ``ORDERS_SANDBOX_MAX_QUEUE``, then explicit values."""
        env = os.environ if environ is None else environ
        values: dict[str, int] = {}
        for name in ("max_workers", "max_queue"):
            raw = env.get(f"ORDERS_SANDBOX_{name.upper()}")
            if raw:
                try:
                    values[name] = int(raw)
                except ValueError:
                    raise ValueError(f"ORDERS_SANDBOX_{name.upper()} must be a whole number, got {raw!r}") from None
            if overrides.get(name) is not None:
                values[name] = int(overrides[name])  # type: ignore[arg-type]
        return cls(**values)


class Throttled(Exception):
    """An invocation refused as Lambda refuses it: HTTP 429 ``TooManyRequestsException``."""

    def __init__(self, function: str, reason: str):
        super().__init__(f"Rate Exceeded. ({reason}, function {function})")
        self.function, self.reason = function, reason

    def body(self) -> bytes:
        return json.dumps({"Reason": self.reason, "Type": "User", "message": "Rate Exceeded."}).encode()

    def headers(self) -> list[tuple[str, str]]:
        return [("Content-Type", "application/json"), ("x-amzn-ErrorType", "TooManyRequestsException")]


@dataclass(frozen=True)
class Ticket:
    """A granted execution slot; give it back with ``Capacity.release``."""

    function: str
    kind: Kind


@dataclass
class FunctionStats:
    granted: int = 0
    throttled: int = 0
    running: int = 0
    waiting: int = 0
    waiting_events: int = 0
    peak_running: int = 0
    peak_waiting: int = 0


@dataclass
class _Gate:
    reserved: int | None = None
    running: int = 0
    waiting_sync: int = 0
    queue: deque[tuple[Future[Ticket], Kind]] = field(default_factory=deque)
    stats: FunctionStats = field(default_factory=FunctionStats)


class Capacity:
    """Per-function admission and FIFO hand-out of execution slots."""

    def __init__(self, limits: Limits | None = None, on_throttle: Callable[[str], None] | None = None):
        self.limits = limits or Limits()
        self.on_throttle = on_throttle  # told the function's name on each throttle (its Throttles metric)
        self._gates: dict[str, _Gate] = {}
        self._lock = threading.Lock()
        self._closed = False

    # -- the rule ------------------------------------------------------------------
    def _cap(self, gate: _Gate) -> int:
        """How many invocations may run at once."""
        return self.limits.max_workers if gate.reserved is None else min(self.limits.max_workers, gate.reserved)

    def _limit(self, gate: _Gate) -> tuple[int, str]:
        """How many synchronous invocations may be running or waiting, and the reason given past it."""
        here = self.limits.max_workers + self.limits.max_queue
        if gate.reserved is not None and gate.reserved <= min(here, ACCOUNT_CONCURRENCY):
            return gate.reserved, "ReservedFunctionConcurrentInvocationLimitExceeded"
        return min(here, ACCOUNT_CONCURRENCY), "ConcurrentInvocationLimitExceeded"

    # -- requests --------------------------------------------------------------------
    def request(self, function: str, kind: Kind = "sync", reserved: int | None = None) -> Future[Ticket]:
        """A future slot for one invocation; raises ``Throttled`` at once past the limit.

        ``reserved`` is the function's reserved concurrency as configured now
        (None when unreserved); it is read on every request, so a change through
        ``PutFunctionConcurrency`` applies to the next invocation.
        """
        future: Future[Ticket] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the sandbox is shutting down")
            gate = self._gates.setdefault(function, _Gate())
            gate.reserved = reserved
            if kind == "sync":
                limit, reason = self._limit(gate)
                if gate.running + gate.waiting_sync >= limit:
                    gate.stats.throttled += 1
                    if self.on_throttle:
                        self.on_throttle(function)
                    raise Throttled(function, reason)
                gate.waiting_sync += 1
            gate.queue.append((future, kind))
            granted = self._grant(function, gate)
        _hand_out(granted)
        return future

    def release(self, ticket: Ticket) -> None:
        with self._lock:
            gate = self._gates[ticket.function]
            gate.running -= 1
            granted = self._grant(ticket.function, gate)
        _hand_out(granted)

    def refresh(self, function: str, reserved: int | None) -> None:
        """Apply a changed reserved concurrency to invocations already waiting."""
        with self._lock:
            gate = self._gates.setdefault(function, _Gate())
            gate.reserved = reserved
            granted = self._grant(function, gate)
        _hand_out(granted)

    def _grant(self, function: str, gate: _Gate) -> list[tuple[Future[Ticket], Ticket]]:
        """Take free slots for the head of the queue (lock held); the caller resolves them after."""
        granted: list[tuple[Future[Ticket], Ticket]] = []
        while gate.queue and gate.running < self._cap(gate):
            future, kind = gate.queue.popleft()
            if kind == "sync":
                gate.waiting_sync -= 1
            if not future.set_running_or_notify_cancel():
                continue  # the caller gave up while waiting
            gate.running += 1
            gate.stats.granted += 1
            granted.append((future, Ticket(function, kind)))
        gate.stats.running = gate.running
        gate.stats.waiting = gate.waiting_sync
        gate.stats.waiting_events = len(gate.queue) - gate.waiting_sync
        gate.stats.peak_running = max(gate.stats.peak_running, gate.running)
        gate.stats.peak_waiting = max(gate.stats.peak_waiting, gate.waiting_sync)
        return granted

    # -- inspection and lifecycle ---------------------------------------------------------
    def set_limits(self, max_workers: int | None = None, max_queue: int | None = None) -> Limits:
        with self._lock:
            self.limits = Limits(
                max_workers if max_workers is not None else self.limits.max_workers,
                max_queue if max_queue is not None else self.limits.max_queue,
            )
            granted = [g for function, gate in self._gates.items() for g in self._grant(function, gate)]
            limits = self.limits
        _hand_out(granted)
        return limits

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "max_workers": self.limits.max_workers,
                "max_queue": self.limits.max_queue,
                "functions": {name: {**vars(gate.stats), "reserved": gate.reserved} for name, gate in self._gates.items()},
            }

    def close(self) -> None:
        """Fail every waiting request (shutdown)."""
        with self._lock:
            self._closed = True
            waiting = [future for gate in self._gates.values() for future, _ in gate.queue]
            for gate in self._gates.values():
                gate.queue.clear()
                gate.waiting_sync = 0
        for future in waiting:
            if future.set_running_or_notify_cancel():
                future.set_exception(RuntimeError("the sandbox is shutting down"))


def _hand_out(granted: list[tuple[Future[Ticket], Ticket]]) -> None:
    """Resolve granted futures outside the lock: their callbacks may call back in."""
    for future, ticket in granted:
        future.set_result(ticket)


def reserved_concurrency(value: Any) -> int | None:
    """moto stores ``ReservedConcurrentExecutions`` as given (int, str or None)."""
    if value is None or value == "":
        return None
    return int(value)


_admitted = threading.local()


@contextmanager
def admitted(ticket: Ticket | None) -> Iterator[None]:
    """Mark this thread's work as already holding ``ticket`` (the front end admitted it)."""
    _admitted.ticket = ticket
    try:
        yield
    finally:
        _admitted.ticket = None


def admitted_ticket() -> Ticket | None:
    return getattr(_admitted, "ticket", None)

"""The gate that gives a snapshot one consistent cut of the sandbox's state.

Everything that changes the state (an API request to moto, a function's log lines, the TTL
sweeper, the alarm evaluator) runs inside ``gate.shared()``: many at once. A snapshot takes
``gate.exclusive()``: new shared sections wait, and it waits until the running ones have left,
so no request, sweep or evaluation is half-applied in the cut. The snapshot then ``fork()``s and
leaves: the child serialises the frozen copy while the parent carries on, so the pause is the
wait for running sections plus the fork, not the serialisation (see ``snapshots``).

A section that waits for something outside the state (a synchronous ``Invoke`` running its
function, an SQS long poll) steps out with ``gate.released()`` while it waits, so no client's
20-second poll holds a snapshot back. Sections are re-entrant per thread (a request whose
handler writes a function's log lines enters twice). ``changes`` counts shared sections, so a
periodic snapshot is skipped when nothing ran since the last one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

DRAIN_TIMEOUT_S = 5.0


class GateBusy(RuntimeError):
    """Running sections did not leave in time: the snapshot is skipped, nothing waits longer."""


class StateGate:
    def __init__(self) -> None:
        self._condition = threading.Condition(threading.Lock())
        self._active = 0  # threads inside a shared section
        self._exclusive = False  # a snapshot holds the gate, or waits for it (new sections wait)
        self._local = threading.local()
        self._holders: dict[int, tuple[str, float]] = {}  # thread -> (its name, when its section began)
        self.changes = 0
        self.waited_for: list[str] = []  # the sections the last exclusive hold found running, oldest first

    def _depth(self) -> int:
        return getattr(self._local, "depth", 0)

    @contextmanager
    def shared(self) -> Iterator[None]:
        depth = self._depth()
        if depth == 0:
            with self._condition:
                while self._exclusive:
                    self._condition.wait()
                self._active += 1
                self.changes += 1
                self._holders[threading.get_ident()] = (threading.current_thread().name, time.perf_counter())
        self._local.depth = depth + 1
        try:
            yield
        finally:
            self._local.depth = depth
            if depth == 0:
                with self._condition:
                    self._active -= 1
                    self._holders.pop(threading.get_ident(), None)
                    if self._active == 0:
                        self._condition.notify_all()

    @contextmanager
    def released(self) -> Iterator[None]:
        """Step out of this thread's shared section while waiting on something outside the state."""
        depth = self._depth()
        if depth == 0:
            yield
            return
        with self._condition:
            self._active -= 1
            held = self._holders.pop(threading.get_ident(), None)
            if self._active == 0:
                self._condition.notify_all()
        self._local.depth = 0
        try:
            yield
        finally:
            with self._condition:
                while self._exclusive:
                    self._condition.wait()
                self._active += 1
                if held:
                    self._holders[threading.get_ident()] = held
            self._local.depth = depth

    @contextmanager
    def exclusive(self, timeout_s: float = DRAIN_TIMEOUT_S) -> Iterator[float]:
        """Hold the whole state still; yields how long the wait for running sections took (s).

        ``GateBusy`` if they have not all left within ``timeout_s``: a section may be waiting,
        unreleased, for work that needs a new section, and a snapshot must never wedge the
        sandbox; that one is skipped and the next tries again."""
        started = time.perf_counter()
        with self._condition:
            while self._exclusive:  # one snapshot at a time
                self._condition.wait()
            self._exclusive = True
            now = time.perf_counter()
            self.waited_for = [
                f"{name} ({1000 * (now - began):.0f} ms in)" for name, began in sorted(self._holders.values(), key=lambda h: h[1])
            ]
            drained = self._condition.wait_for(lambda: self._active == 0, timeout_s)
            if not drained:
                self._exclusive = False
                self._condition.notify_all()
                raise GateBusy(f"{self._active} section(s) still running after {timeout_s:.1f} s: {', '.join(self.waited_for)}")
        try:
            yield time.perf_counter() - started
        finally:
            with self._condition:
                self._exclusive = False
                self._condition.notify_all()

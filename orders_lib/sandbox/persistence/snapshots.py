"""When the sandbox's state is written to disk, and how it comes back.

* **Periodically while the state changes** (every ``interval_s``, default 5 s; 0 turns it off)
  and **on a clean stop**. A periodic snapshot takes the gate's cut (``gate.exclusive``: no
  request, sweep or evaluation half-applied; the metric store's and alarm history's own short
  locks held too), ``fork()``s, and lets the state go: the child pickles the frozen copy and
  writes it (``snapshot_file.write``: a temporary file, fsync, rename), the parent carries on.
  The pause requests see is the wait for running sections plus the fork, not the
  serialisation, which grows with the data (Redis's ``BGSAVE`` works the same way). On stop
  everything has stopped already, so the snapshot is written in process.
* **A crash** loses what changed after the last snapshot, at most one interval, and never
  leaves a half-written file: the previous snapshot stays until the new one replaced it.
* **At start** (``restore``) the snapshot is loaded after the sandbox's moto patches are in,
  before anything serves a request. A file from another schema, moto or Python version, or
  one that cannot be read, is never loaded half-way: it is moved aside (``<name>.refused-…``)
  with the reason in the log and the status, and the sandbox starts empty (``strict``: it
  refuses to start instead).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from orders_lib.sandbox.persistence import moto_state, snapshot_file
from orders_lib.sandbox.persistence.gate import GateBusy, StateGate

LOG = logging.getLogger(__name__)
SNAPSHOT_FILE = "state.snapshot"
DEFAULT_INTERVAL_S = 5.0


@dataclass
class SnapshotStatus:
    path: str
    interval_s: float
    snapshots: int = 0
    failures: int = 0
    skipped_busy: int = 0
    last_at: float | None = None  # epoch seconds the last snapshot's cut was taken
    last_size_bytes: int | None = None
    last_pause_ms: float | None = None  # how long requests waited for the last cut (gate + fork)
    last_gate_wait_ms: float | None = None  # of which: waiting for running sections to leave
    last_fork_ms: float | None = None  # of which: the fork
    last_waited_for: list[str] | None = None  # the sections the last cut waited for (thread, age)
    last_write_ms: float | None = None  # how long the last write took (in the child, off the request path)
    max_pause_ms: float = 0.0
    last_error: str | None = None
    restored_from: str | None = None  # the snapshot this run started from, with its age then
    refused: str | None = None  # a snapshot moved aside at start, and why

    def to_dict(self, now: float | None = None) -> dict[str, Any]:
        data = asdict(self)
        data["age_s"] = None if self.last_at is None else round((now or time.time()) - self.last_at, 1)
        return data


class Snapshots:
    """``collect()`` gives the sandbox's own state (plain data, or objects the pickler knows), taken
    under the cut; ``locks`` are held with the gate while the process forks."""

    def __init__(
        self,
        state_dir: Path,
        gate: StateGate,
        collect: Callable[[], dict[str, Any]],
        locks: Sequence[AbstractContextManager[Any]] = (),
        interval_s: float = DEFAULT_INTERVAL_S,
    ):
        self.path = Path(state_dir) / SNAPSHOT_FILE
        self.gate, self.collect, self.locks, self.interval_s = gate, collect, list(locks), interval_s
        self.status = SnapshotStatus(str(self.path), interval_s)
        self._taken_at_changes = -1
        self._one_at_a_time = threading.Lock()

    # -- restore ---------------------------------------------------------------------
    def restore(self, *, strict: bool = False) -> dict[str, Any] | None:
        """The sandbox's own state from the snapshot, moto's put back; None when there is none
        (or it was refused and moved aside, unless ``strict``)."""
        if not self.path.exists():
            return None
        try:
            header, payload = snapshot_file.open_payload(self.path)
            with payload:
                extra = moto_state.restore(payload)
        except snapshot_file.SnapshotError as error:
            if strict:
                raise
            aside = snapshot_file.move_aside(self.path, str(error))
            self.status.refused = f"{aside.name}: {error}"
            LOG.error("snapshot refused and moved aside to %s: %s (starting empty)", aside, error)
            return None
        self.status.restored_from = f"{self.path} (taken {time.time() - header.created:.0f} s before this start)"
        self.status.last_at, self.status.last_size_bytes = header.created, self.path.stat().st_size
        self._taken_at_changes = self.gate.changes
        return extra

    # -- take ------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        if self.interval_s <= 0:
            return
        while not stop.wait(self.interval_s):
            if self.gate.changes != self._taken_at_changes:
                self.take_forked()

    @contextlib.contextmanager
    def _cut(self) -> Iterator[tuple[float, dict[str, Any], int]]:
        with self.gate.exclusive() as waited, contextlib.ExitStack() as held:
            for lock in self.locks:
                held.enter_context(lock)
            yield waited, self.collect(), self.gate.changes

    def take_forked(self) -> bool:
        """A periodic snapshot: the cut, a fork, the child writes. False if skipped or failed."""
        with self._one_at_a_time:
            started = time.perf_counter()
            try:
                with self._cut() as (waited, extra, changes):
                    cut_at = time.time()
                    forking = time.perf_counter()
                    pid = os.fork()
                    if pid == 0:  # the child: write and leave, touching nothing shared
                        code = 1
                        try:
                            snapshot_file.write(self.path, lambda file: moto_state.capture(file, extra), cut_at=cut_at)
                            code = 0
                        finally:
                            os._exit(code)
            except GateBusy as busy:
                self.status.skipped_busy += 1
                LOG.warning("snapshot skipped: %s", busy)
                return False
            pause_ms = 1000 * (time.perf_counter() - started)
            self.status.last_gate_wait_ms = round(1000 * waited, 2)
            self.status.last_waited_for = list(self.gate.waited_for)
            self.status.last_fork_ms = round(1000 * (time.perf_counter() - forking), 2)
            _, status = os.waitpid(pid, 0)
            return self._finished(os.waitstatus_to_exitcode(status) == 0, cut_at, changes, pause_ms, started)

    def take_in_process(self) -> bool:
        """The snapshot of a stopped sandbox (nothing runs: no fork needed)."""
        with self._one_at_a_time:
            started = time.perf_counter()
            with self._cut() as (_, extra, changes):
                cut_at = time.time()
                try:
                    snapshot_file.write(self.path, lambda file: moto_state.capture(file, extra), cut_at=cut_at)
                    ok = True
                except Exception as error:
                    self.status.last_error = repr(error)
                    LOG.exception("snapshot failed; the previous one stays")
                    ok = False
            return self._finished(ok, cut_at, changes, 1000 * (time.perf_counter() - started), started)

    def _finished(self, ok: bool, cut_at: float, changes: int, pause_ms: float, started: float) -> bool:
        status = self.status
        if not ok:
            status.failures += 1
            status.last_error = status.last_error or "the snapshot writer exited with an error (see the sandbox log)"
            return False
        status.snapshots += 1
        status.last_at, status.last_size_bytes = cut_at, self.path.stat().st_size
        status.last_pause_ms = round(pause_ms, 2)
        status.max_pause_ms = max(status.max_pause_ms, status.last_pause_ms)
        status.last_write_ms = round(1000 * (time.perf_counter() - started), 1)
        status.last_error = None
        self._taken_at_changes = changes
        return True

"""The snapshot gate: a consistent cut without wedging the sandbox."""

from __future__ import annotations

import threading
import time

from orders_lib.sandbox.persistence.gate import GateBusy, StateGate


def _cut(gate: StateGate, record: list[object], timeout_s: float = 5.0) -> threading.Thread:
    def run() -> None:
        try:
            with gate.exclusive(timeout_s=timeout_s):
                record.append("cut")
        except GateBusy as busy:
            record.append(busy)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_exclusive_waits_for_running_sections_and_holds_new_ones_back():
    gate, events = StateGate(), []
    inside, leave = threading.Event(), threading.Event()

    def section(name, hold):
        with gate.shared():
            events.append(f"{name} in")
            if hold:
                inside.set()
                leave.wait(5)
            events.append(f"{name} out")

    running = threading.Thread(target=section, args=("running", True))
    running.start()
    inside.wait(5)
    snapshot = _cut(gate, events)
    time.sleep(0.1)
    late = threading.Thread(target=section, args=("late", False))
    late.start()
    time.sleep(0.1)
    assert events == ["running in"]  # the cut waits for it; the late section waits for the cut
    leave.set()
    for thread in (running, snapshot, late):
        thread.join(5)
    assert events == ["running in", "running out", "cut", "late in", "late out"]
    assert gate.changes == 2


def test_sections_nest_and_a_released_wait_lets_the_cut_through():
    gate, events = StateGate(), []
    with gate.shared():
        with gate.shared():  # re-entrant per thread
            pass
        with gate.released():  # e.g. a synchronous Invoke waiting for its function
            _cut(gate, events).join(5)
        assert events == ["cut"]
    assert gate.changes == 1


def test_a_section_that_never_leaves_makes_the_snapshot_give_up_not_wedge():
    gate, events = StateGate(), []
    with gate.shared():
        started = time.perf_counter()
        _cut(gate, events, timeout_s=0.2).join(5)
        assert isinstance(events[0], GateBusy) and time.perf_counter() - started < 2
    with gate.shared():  # new sections run again
        pass
    with gate.exclusive(timeout_s=1) as waited:
        assert waited < 1

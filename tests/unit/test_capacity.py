"""Function concurrency in the sandbox: FIFO hand-out of worker slots, the bound, throttles as Lambda sends them."""

from __future__ import annotations

import json
import threading

import pytest

from orders_lib.sandbox.lambda_.invocation.capacity import Capacity, Limits, Throttled, admitted, admitted_ticket, reserved_concurrency


def test_slots_are_granted_up_to_the_workers_then_in_arrival_order():
    capacity = Capacity(Limits(max_workers=2, max_queue=5))
    slots = [capacity.request("fn") for _ in range(5)]
    assert [s.done() for s in slots] == [True, True, False, False, False]
    capacity.release(slots[0].result())
    assert [s.done() for s in slots] == [True, True, True, False, False]
    capacity.release(slots[1].result())
    capacity.release(slots[2].result())
    assert all(s.done() for s in slots)
    stats = capacity.snapshot()["functions"]["fn"]
    assert stats["granted"] == 5 and stats["running"] == 2 and stats["waiting"] == 0 and stats["peak_waiting"] == 3


def test_past_workers_plus_queue_a_request_is_refused_at_once_with_lambdas_reason():
    capacity = Capacity(Limits(max_workers=2, max_queue=3))
    for _ in range(5):
        capacity.request("fn")
    with pytest.raises(Throttled) as refused:
        capacity.request("fn")
    assert refused.value.reason == "ConcurrentInvocationLimitExceeded"
    assert json.loads(refused.value.body()) == {"Reason": "ConcurrentInvocationLimitExceeded", "Type": "User", "message": "Rate Exceeded."}
    assert ("x-amzn-ErrorType", "TooManyRequestsException") in refused.value.headers()
    assert capacity.snapshot()["functions"]["fn"]["throttled"] == 1


def test_a_freed_slot_lets_the_next_request_in():
    capacity = Capacity(Limits(max_workers=1, max_queue=0))
    first = capacity.request("fn")
    with pytest.raises(Throttled):
        capacity.request("fn")
    capacity.release(first.result())
    assert capacity.request("fn").done()


def test_functions_do_not_share_slots():
    capacity = Capacity(Limits(max_workers=1, max_queue=0))
    capacity.request("create")
    assert capacity.request("process").done()


def test_reserved_concurrency_zero_throttles_every_synchronous_invocation():
    capacity = Capacity(Limits(max_workers=4, max_queue=10))
    with pytest.raises(Throttled) as refused:
        capacity.request("fn", reserved=0)
    assert refused.value.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"


def test_reserved_concurrency_below_the_workers_caps_running_and_queues_nothing():
    capacity = Capacity(Limits(max_workers=4, max_queue=10))
    slots = [capacity.request("fn", reserved=2) for _ in range(2)]
    assert all(s.done() for s in slots)
    with pytest.raises(Throttled) as refused:
        capacity.request("fn", reserved=2)
    assert refused.value.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"


def test_reserved_concurrency_above_the_workers_queues_up_to_it():
    capacity = Capacity(Limits(max_workers=2, max_queue=10))
    slots = [capacity.request("fn", reserved=5) for _ in range(5)]
    assert sum(s.done() for s in slots) == 2
    with pytest.raises(Throttled) as refused:
        capacity.request("fn", reserved=5)
    assert refused.value.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"


def test_event_invocations_are_never_refused_and_wait_while_reserved_is_zero():
    capacity = Capacity(Limits(max_workers=1, max_queue=0))
    events = [capacity.request("fn", "event", reserved=0) for _ in range(20)]
    assert not any(e.done() for e in events)
    assert capacity.snapshot()["functions"]["fn"]["waiting_events"] == 20
    capacity.refresh("fn", reserved=None)  # DeleteFunctionConcurrency
    assert events[0].done() and not events[1].done()
    for event in events:
        capacity.release(event.result())
    assert capacity.snapshot()["functions"]["fn"]["granted"] == 20


def test_waiting_events_do_not_count_against_the_synchronous_bound():
    capacity = Capacity(Limits(max_workers=1, max_queue=1))
    running = capacity.request("fn")
    for _ in range(10):
        capacity.request("fn", "event")
    assert not capacity.request("fn").done()  # the one queue place is still free for a synchronous caller
    with pytest.raises(Throttled):
        capacity.request("fn")
    capacity.release(running.result())


def test_fifo_holds_across_synchronous_and_event_requests():
    capacity = Capacity(Limits(max_workers=1, max_queue=5))
    granted = []
    running = capacity.request("fn")
    for name, kind in (("a", "event"), ("b", "sync"), ("c", "event")):
        capacity.request("fn", kind).add_done_callback(lambda f, name=name: granted.append((name, f.result())))
    capacity.release(running.result())
    for index in range(2):
        capacity.release(granted[index][1])
    assert [name for name, _ in granted] == ["a", "b", "c"]


def test_a_caller_that_gave_up_while_waiting_loses_its_place_not_a_slot():
    capacity = Capacity(Limits(max_workers=1, max_queue=5))
    running = capacity.request("fn")
    gave_up, next_one = capacity.request("fn"), capacity.request("fn")
    assert gave_up.cancel()
    capacity.release(running.result())
    assert next_one.done() and capacity.snapshot()["functions"]["fn"]["running"] == 1


def test_callbacks_may_call_back_in_without_deadlock():
    capacity = Capacity(Limits(max_workers=1, max_queue=5))
    first = capacity.request("fn")
    done = threading.Event()
    second = capacity.request("fn")
    second.add_done_callback(lambda f: (capacity.release(f.result()), done.set()))
    capacity.release(first.result())
    assert done.wait(1) and capacity.snapshot()["functions"]["fn"]["running"] == 0


def test_more_workers_at_run_time_start_waiting_requests():
    capacity = Capacity(Limits(max_workers=1, max_queue=5))
    slots = [capacity.request("fn") for _ in range(3)]
    capacity.set_limits(max_workers=3)
    assert all(s.done() for s in slots)


def test_close_fails_waiting_requests_and_refuses_new_ones():
    capacity = Capacity(Limits(max_workers=1, max_queue=5))
    capacity.request("fn")
    waiting = capacity.request("fn")
    capacity.close()
    with pytest.raises(RuntimeError, match="shutting down"):
        waiting.result(timeout=1)
    with pytest.raises(RuntimeError):
        capacity.request("fn")


def test_limits_from_environment_and_overrides():
    assert Limits.from_env({"ORDERS_SANDBOX_MAX_WORKERS": "3", "ORDERS_SANDBOX_MAX_QUEUE": "7"}) == Limits(3, 7)
    assert Limits.from_env({"ORDERS_SANDBOX_MAX_WORKERS": "3"}, max_workers=6).max_workers == 6
    assert 2 <= Limits.from_env({}).max_workers <= 8
    with pytest.raises(ValueError, match="ORDERS_SANDBOX_MAX_QUEUE must be a whole number"):
        Limits.from_env({"ORDERS_SANDBOX_MAX_QUEUE": "many"})
    with pytest.raises(ValueError, match="max_workers must be at least 1"):
        Limits(max_workers=0)


def test_reserved_concurrency_as_moto_stores_it():
    assert reserved_concurrency(None) is None and reserved_concurrency("") is None
    assert reserved_concurrency("0") == 0 and reserved_concurrency(5) == 5


def test_admitted_marks_only_the_current_thread():
    capacity = Capacity(Limits(max_workers=1, max_queue=0))
    ticket = capacity.request("fn").result()
    seen = []
    with admitted(ticket):
        thread = threading.Thread(target=lambda: seen.append(admitted_ticket()))
        thread.start()
        thread.join()
        assert admitted_ticket() == ticket
    assert seen == [None] and admitted_ticket() is None

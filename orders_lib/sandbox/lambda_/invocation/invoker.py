"""Every way into a function passes here: its concurrency first, then the runtime.

Three callers: the HTTP front end (synchronous ``Invoke`` from clients, admitted
before it reaches moto), moto's ``Invoke`` handler (``Event`` invocations, and
synchronous ones that reach it unadmitted), and the stream pollers.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor

from orders_lib.sandbox.lambda_.invocation.capacity import Capacity, Ticket, admitted_ticket
from orders_lib.sandbox.lambda_.invocation.runtime import FunctionSpec, Invocation, LambdaRuntime

LOG = logging.getLogger(__name__)


class Invocations:
    def __init__(self, runtime: LambdaRuntime, capacity: Capacity):
        self.runtime, self.capacity = runtime, capacity
        # Runs Event invocations once they hold a slot; never more than the slots
        # granted, so this pool never queues work of its own.
        self._events = ThreadPoolExecutor(64, thread_name_prefix="lambda-event")

    def sync(self, spec: FunctionSpec, payload: str, reserved: int | None) -> Invocation:
        """Run now if this thread was admitted, else wait for a slot (``Throttled`` past the limit)."""
        if admitted_ticket() is not None:
            return self.runtime.invoke(spec, payload)
        ticket = self.capacity.request(spec.name, "sync", reserved).result()
        try:
            return self.runtime.invoke(spec, payload)
        finally:
            self.capacity.release(ticket)

    def event(self, spec: FunctionSpec, payload: str, reserved: int | None) -> None:
        """Queue an ``Event`` invocation: never refused, run when a slot frees."""
        slot = self.capacity.request(spec.name, "event", reserved)
        slot.add_done_callback(lambda done: self._start_event(done, spec, payload))

    def _start_event(self, slot: Future[Ticket], spec: FunctionSpec, payload: str) -> None:
        if slot.cancelled() or slot.exception() is not None:
            LOG.warning("Event invocation of %s not run: %s", spec.name, "cancelled" if slot.cancelled() else slot.exception())
            return
        ticket = slot.result()
        try:
            self._events.submit(self._run_event, ticket, spec, payload)
        except RuntimeError:  # the pool is shut down: the sandbox is stopping
            self.capacity.release(ticket)

    def _run_event(self, ticket: Ticket, spec: FunctionSpec, payload: str) -> None:
        try:
            result = self.runtime.invoke(spec, payload)
            if result.function_error:
                LOG.info("Event invocation of %s failed: %s", spec.name, result.payload[:200])
        except Exception:  # an Event invocation has no caller to report to; the cause is logged
            LOG.exception("Event invocation of %s failed", spec.name)
        finally:
            self.capacity.release(ticket)

    def close(self) -> None:
        self.capacity.close()
        self._events.shutdown(wait=False, cancel_futures=True)

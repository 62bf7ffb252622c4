"""The pipeline's capacity, measured with a short ramp, and the rate a latency sample can sustain.

Machines differ threefold in speed, so a fixed sample rate describes the pipeline on one machine
and its queue on another. The ramp offers CreateOrder a few rates for about two seconds each,
doubling, and stops at the first the pipeline does not keep up with twice in a row (once may be
a moment's noise on a shared machine): how many orders a second it PROCESSED there, with a
backlog in front of it, is its capacity. A sample taken at half of that (``sample_rate``)
measures the pipeline, not the backlog.

A step's rate is counted over its middle 80% of ``processedAt`` times (``processing_rate``): the
first and last orders' latencies and ProcessOrder's batches (one ``processedAt`` per batch) do
not move it the way first write to last PROCESSED would in a step of two seconds.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..domain.clock import from_iso
from ..domain.percentiles import percentile

RAMP_RATES = (20.0, 40.0, 80.0, 160.0)  # offered orders/s, each for STEP_S
STEP_S = 2.0
KEEPS_UP = 0.9  # processed / offered below this: the pipeline has fallen behind
CONFIRM = 2  # steps behind in a row, at one rate, before the ramp stops there
SAMPLE_SHARE = 0.5  # of the capacity, for a latency sample
SAMPLE_CEILING = 50.0  # orders/s: enough for a sample anywhere, and what a real account is asked for at most
SAMPLE_FLOOR = 1.0


@dataclass(frozen=True)
class Step:
    """One rate offered: how many orders, the rate PROCESSED, write → PROCESSED p50/p99."""

    offered_per_s: float
    orders: int
    achieved_per_s: float
    p50_ms: float
    p99_ms: float

    @property
    def kept_up(self) -> bool:
        return self.achieved_per_s >= KEEPS_UP * self.offered_per_s


@dataclass(frozen=True)
class Capacity:
    """Orders/s the pipeline PROCESSED at the first step it fell behind; ``fell_behind_at`` None:
    it kept up with every step, and ``orders_per_s`` (the fastest step) is a lower bound."""

    orders_per_s: float
    fell_behind_at: float | None
    steps: tuple[Step, ...]
    seconds: float = 0.0

    def describe(self) -> str:
        if self.fell_behind_at is None:
            return f"at least {self.orders_per_s:g} orders/s (it kept up with every step of the ramp)"
        return f"{self.orders_per_s:g} orders/s (PROCESSED while {self.fell_behind_at:g}/s were offered)"


def processing_rate(processed_s: Sequence[float], trim: float = 0.1) -> float:
    """Orders PROCESSED per second between the ``trim`` and ``1 - trim`` quantiles of their
    times (seconds, any origin): orders after the window's first time, up to its last, over its
    length. Orders of one batch share a time, so the window counts whole batches. 0.0 when the
    window has no length (fewer than two distinct times)."""
    times = sorted(processed_s)
    if len(times) < 2:
        return 0.0
    start, end = times[int(trim * (len(times) - 1))], times[round((1 - trim) * (len(times) - 1))]
    if end <= start:
        start, end = times[0], times[-1]
    if end <= start:
        return 0.0
    return sum(1 for t in times if start < t <= end) / (end - start)


def capacity_of(steps: Sequence[Step], confirm: int = CONFIRM, seconds: float = 0.0) -> Capacity:
    """The first rate the pipeline fell behind at ``confirm`` times in a row gives the capacity
    (the most it PROCESSED there): one step behind may be a moment's noise on a shared machine.
    If no rate was, the fastest step's rate is a lower bound."""
    if not steps:
        raise ValueError("no ramp step was measured")
    behind = list[Step]()  # the latest steps in a row that fell behind, at one rate
    for step in steps:
        if step.kept_up:
            behind = []
            continue
        behind = [*behind, step] if behind and behind[-1].offered_per_s == step.offered_per_s else [step]
        if len(behind) >= confirm:
            return Capacity(round(max(s.achieved_per_s for s in behind), 1), step.offered_per_s, tuple(steps), seconds)
    return Capacity(round(max(s.achieved_per_s for s in steps), 1), None, tuple(steps), seconds)


def sample_rate(
    capacity_per_s: float | None,
    given: float | None = None,
    share: float = SAMPLE_SHARE,
    ceiling: float = SAMPLE_CEILING,
    floor: float = SAMPLE_FLOOR,
) -> float:
    """``given`` when the user chose a rate; otherwise ``share`` of the capacity, at most
    ``ceiling`` and at least ``floor`` orders/s (1 decimal)."""
    if given is not None:
        if given <= 0:
            raise ValueError(f"a sample rate must be above 0 orders/s, got {given}")
        return float(given)
    if capacity_per_s is None or capacity_per_s <= 0:
        return floor
    return round(min(ceiling, max(floor, share * capacity_per_s)), 1)


def step_of(offered_per_s: float, items: Sequence[dict[str, Any]]) -> Step:
    """A step's figures from its orders' stored times (orders not PROCESSED left out)."""
    done = [i for i in items if i.get("processedAt") and i.get("createdAt")]
    processed = [from_iso(i["processedAt"]).timestamp() for i in done]
    waits = [(p - from_iso(i["createdAt"]).timestamp()) * 1000 for i, p in zip(done, processed, strict=True)]
    return Step(
        offered_per_s,
        len(done),
        round(processing_rate(processed), 1),
        round(percentile(waits, 0.5), 1) if waits else 0.0,
        round(percentile(waits, 0.99), 1) if waits else 0.0,
    )


def wait_in_order(repository: Any, order_ids: Sequence[str], timeout_s: float = 60.0) -> list[dict[str, Any]]:
    """The orders' items once each is PROCESSED (or the timeout passed). The one shard takes them
    in about the order they were written, so the newest pending order is asked after, one read at
    a time: waiting costs the sandbox little while it is being measured."""
    pending, items = list(order_ids), dict[str, dict[str, Any]]()
    deadline = time.monotonic() + timeout_s
    while pending and time.monotonic() < deadline:
        item = repository.get_item(pending[-1])
        if item and item.get("processedAt"):
            items[pending.pop()] = item
        else:
            time.sleep(0.1)
    for order_id in pending:  # checked once more: processed out of order, or the timeout
        item = repository.get_item(order_id)
        if item:
            items[order_id] = item
    return [items[i] for i in order_ids if i in items]


def measure_rate(
    lambda_client: Any, function_name: str, repository: Any, rate: float, orders: int, *, clients: int = 4, seed: int = 0
) -> Step:
    """``orders`` orders offered at ``rate`` through CreateOrder, each waited for until PROCESSED."""
    from .orders import create_bulk

    report = create_bulk(lambda_client, function_name, orders, rate_per_s=rate, clients=clients, seed=seed)
    return step_of(rate, wait_in_order(repository, report.order_ids))


def ramp(
    lambda_client: Any,
    function_name: str,
    repository: Any,
    rates: Sequence[float] = RAMP_RATES,
    step_s: float = STEP_S,
    *,
    clients: int = 4,
    seed: int = 500,
) -> Capacity:
    """Offer each rate for ``step_s`` seconds (at least 20 orders), in order, once more when the
    pipeline falls behind, until it falls behind ``CONFIRM`` times at one rate; the capacity as
    ``capacity_of`` reads it."""
    started, steps = time.monotonic(), list[Step]()
    for rate in rates:
        for _ in range(CONFIRM):
            orders = max(20, round(rate * step_s))
            steps.append(measure_rate(lambda_client, function_name, repository, rate, orders, clients=clients, seed=seed + len(steps)))
            if steps[-1].kept_up:
                break
        else:
            break
    return capacity_of(steps, seconds=round(time.monotonic() - started, 1))

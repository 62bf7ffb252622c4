"""The sandbox's memory against the orders it holds, read at points of a ``make bench`` run
and carried forward to a size the run does not reach.

moto keeps every item, stream record, message and log event, so the sandbox's resident memory
grows with the orders it has seen, at a steady rate once its caches and worker pools are warm.
Sending 10,000 orders through the pipeline to read that figure took most of ``make bench``
(minutes on a slow machine); two readings after the warm-up and the growth between them give
the same figure in seconds. ``--memory-orders`` still sends that many and reads it directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Reading:
    orders: int  # orders the sandbox has taken in so far
    rss_mb: float


def rss_mb(pid: int) -> float:
    """Resident memory of a process (Linux ``/proc``), 0.0 when it is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0.0
    for line in lines:
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def projection(readings: Sequence[Reading], at_orders: int) -> dict[str, float | int | str]:
    """Growth per 1,000 orders between the first and last reading, and the memory at
    ``at_orders`` carried forward from the last (read, not carried, when the run got there)."""
    if len(readings) < 2 or readings[-1].orders <= readings[0].orders:
        raise ValueError("two readings at different order counts are needed")
    first, last = readings[0], readings[-1]
    per_order = (last.rss_mb - first.rss_mb) / (last.orders - first.orders)
    ahead = max(0, at_orders - last.orders)
    return {
        "mb_per_1000_orders": round(per_order * 1000, 1),
        "at_orders": at_orders,
        "rss_at_orders": round(last.rss_mb + per_order * ahead, 1),
        "how": f"projected from {first.orders:,} -> {last.orders:,} orders" if ahead else f"read after {last.orders:,} orders",
    }

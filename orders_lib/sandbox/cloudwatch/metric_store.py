"""The sandbox's CloudWatch metrics: datapoints kept per metric in 1-minute buckets, and the
statistics CloudWatch computes from them (``Sum``, ``Average``, ``Minimum``, ``Maximum``,
``SampleCount`` and percentiles ``p0``..``p100``), for any period that is a multiple of a minute.

Ours, not moto's: moto 5.2 keeps each datapoint as an object in one list that every query
scans, computes no percentiles, and has no AWS/Lambda or AWS/SQS metrics. Here a metric is a
key to its buckets; a bucket keeps running sums and, for percentiles, each distinct value with
how many times it occurred (PutMetricData's ``Values``/``Counts``: a count may be large or
fractional; equal values share one entry, so a minute of ``Errors``, 0s and 1s, holds two).
Percentiles are ``orders_lib.domain.percentiles``' weighted nearest rank, the definition every
other figure of the project uses.

Window: 3 hours of 1-minute buckets (``DEFAULT_RETENTION_S``), not CloudWatch's 15 days. A
bucket's percentile entries cost about 75 bytes per distinct value, so a Duration metric at
100 invocations a second holds about 80 MB over 3 hours, and would hold 9 GB over 15 days.
Three hours is CloudWatch's own shortest retention (high-resolution data), ample for the
stack's 1-minute alarms and the 15-30 minute dashboard views. Once a minute every metric is
trimmed, idle or not, and a metric left without buckets is forgotten (ListMetrics no longer
lists it); a datapoint timestamped before the window is not kept.
Retention: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#metrics-retention
Statistics: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from orders_lib.domain.percentiles import percentile

RESOLUTION_S = 60
DEFAULT_RETENTION_S = 3 * 3600
_PERCENTILE = re.compile(r"^p(\d{1,2}(\.\d+)?|100)$")
BASIC = ("SampleCount", "Sum", "Average", "Minimum", "Maximum")


class UnknownStatistic(ValueError):
    pass


@dataclass(frozen=True, order=True)
class MetricKey:
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, namespace: str, name: str, dimensions: Mapping[str, str] | None = None) -> MetricKey:
        return cls(namespace, name, tuple(sorted((dimensions or {}).items())))


@dataclass(slots=True)
class _Bucket:
    counts: dict[float, float] = field(default_factory=dict)  # value -> times it occurred, for percentiles
    count: float = 0.0
    total: float = 0.0
    low: float = math.inf
    high: float = -math.inf
    unit: str | None = None

    def add(self, value: float, count: float = 1.0) -> None:
        self.counts[value] = self.counts[value] + count if value in self.counts else count
        self.count += count
        self.total += value * count
        self.low, self.high = min(self.low, value), max(self.high, value)

    def add_statistics(self, count: float, total: float, low: float, high: float) -> None:
        self.count += count
        self.total += total
        self.low, self.high = min(self.low, low), max(self.high, high)


def validate_statistic(stat: str) -> str:
    if stat in BASIC or _PERCENTILE.match(stat):
        return stat
    raise UnknownStatistic(f"statistic {stat!r} is not supported: use {', '.join(BASIC)} or a percentile such as p99")


def compute(stat: str, buckets: Iterable[_Bucket]) -> float | None:
    """``stat`` over the datapoints of ``buckets``; None when there are none."""
    chosen = [b for b in buckets if b.count]
    if not chosen:
        return None
    count = sum(b.count for b in chosen)
    if stat == "SampleCount":
        return count
    if stat == "Sum":
        return sum(b.total for b in chosen)
    if stat == "Average":
        return sum(b.total for b in chosen) / count
    if stat == "Minimum":
        return min(b.low for b in chosen)
    if stat == "Maximum":
        return max(b.high for b in chosen)
    match = _PERCENTILE.match(stat)
    if not match:
        raise UnknownStatistic(stat)
    pairs = [pair for b in chosen for pair in b.counts.items()]
    if not pairs:
        return None  # only statistic sets were published: no percentile, as on CloudWatch
    return percentile((v for v, _ in pairs), float(match.group(1)) / 100, (c for _, c in pairs))


class MetricStore:
    """Thread-safe; ``clock`` is the time a datapoint without a timestamp gets, and the end of the
    window of ``retention_s`` the store keeps (see the module)."""

    def __init__(self, retention_s: float = DEFAULT_RETENTION_S, clock=time.time):
        self.retention_s, self.clock = retention_s, clock
        self._metrics: dict[MetricKey, dict[int, _Bucket]] = {}
        self._trimmed_below: float = -math.inf
        self._lock = threading.Lock()

    @property
    def lock(self) -> threading.Lock:
        return self._lock

    def export(self) -> dict[str, object]:
        """The buckets and the trim point, for a snapshot (taken while the caller holds ``lock``)."""
        return {"metrics": self._metrics, "trimmed_below": self._trimmed_below}

    def load(self, state: dict[str, object]) -> None:
        with self._lock:
            self._metrics = state["metrics"]  # type: ignore[assignment]  # as export() gave it
            self._trimmed_below = float(state["trimmed_below"])  # type: ignore[arg-type]

    def put(self, key: MetricKey, value: float, *, at: float | None = None, unit: str | None = None, count: float = 1.0) -> None:
        """``value`` occurred ``count`` times; a count that is not positive (or not finite) is no occurrence."""
        if not (count > 0 and math.isfinite(count)):
            return
        with self._lock:
            minute = self._minute(at)
            if minute is None:
                return
            bucket = self._metrics.setdefault(key, {}).setdefault(minute, _Bucket())
            bucket.add(float(value), count)
            bucket.unit = unit or bucket.unit

    def put_sample(self, key: MetricKey, value: float, *, at: float | None = None, unit: str | None = None) -> None:
        """A gauge's one datapoint for its minute, replaced by each newer sample of that minute (as
        SQS publishes ``ApproximateNumberOfMessagesVisible``: one datapoint a minute, a sample)."""
        with self._lock:
            minute = self._minute(at)
            if minute is None:
                return
            bucket = _Bucket(unit=unit)
            bucket.add(float(value))
            self._metrics.setdefault(key, {})[minute] = bucket

    def put_statistics(
        self, key: MetricKey, *, count: float, total: float, low: float, high: float, at: float | None = None, unit: str | None = None
    ) -> None:
        with self._lock:
            minute = self._minute(at)
            if minute is None:
                return
            bucket = self._metrics.setdefault(key, {}).setdefault(minute, _Bucket())
            bucket.add_statistics(count, total, low, high)
            bucket.unit = unit or bucket.unit

    def _minute(self, at: float | None) -> int | None:
        """The bucket of ``at`` (now when None); None when it is older than the window. Caller holds the lock."""
        minute = int((at if at is not None else self.clock()) // RESOLUTION_S)
        return minute if minute >= self._trim() else None

    def _trim(self) -> int:
        """Drop every bucket older than the window, from every metric, at most once a minute, and
        the metrics left without one; returns the oldest minute kept. Caller holds the lock."""
        oldest = int((self.clock() - self.retention_s) // RESOLUTION_S)
        if oldest > self._trimmed_below:
            self._trimmed_below = oldest
            for key in list(self._metrics):
                buckets = self._metrics[key]
                for minute in [m for m in buckets if m < oldest]:
                    del buckets[minute]
                if not buckets:
                    del self._metrics[key]
        return oldest

    def keys(
        self, namespace: str | None = None, name: str | None = None, dimensions: Mapping[str, str | None] | None = None
    ) -> list[MetricKey]:
        """Metrics with data, filtered as ListMetrics filters (a dimension value None matches any value)."""
        with self._lock:
            self._trim()
            found = list(self._metrics)
        wanted = dimensions or {}

        def matches(key: MetricKey) -> bool:
            have = dict(key.dimensions)
            return (
                namespace in (None, key.namespace)
                and name in (None, key.name)
                and all(k in have and v in (None, have[k]) for k, v in wanted.items())
            )

        return sorted(k for k in found if matches(k))

    def series(self, key: MetricKey, stat: str, start: float, end: float, period_s: int) -> list[tuple[float, float]]:
        """(period start, value) for each period of ``period_s`` in [start, end) that has data.
        Periods start on multiples of ``period_s`` since the epoch, as CloudWatch aligns them."""
        validate_statistic(stat)
        period_s = max(RESOLUTION_S, int(period_s) // RESOLUTION_S * RESOLUTION_S)
        first = int(start // period_s) * period_s
        points = []
        step = period_s // RESOLUTION_S
        with self._lock:  # buckets change under concurrent puts: read them under the lock
            self._trim()
            buckets = self._metrics.get(key, {})
            for period_start in range(first, int(end), period_s):
                if period_start + period_s <= start:
                    continue
                minute = period_start // RESOLUTION_S
                value = compute(stat, (buckets[m] for m in range(minute, minute + step) if m in buckets))
                if value is not None:
                    points.append((float(period_start), value))
        return points

    def unit(self, key: MetricKey) -> str | None:
        with self._lock:
            self._trim()
            return next((b.unit for b in self._metrics.get(key, {}).values() if b.unit), None)

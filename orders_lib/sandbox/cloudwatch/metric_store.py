"""The sandbox's CloudWatch metrics: datapoints kept per metric in 1-minute buckets, and the
statistics CloudWatch computes from them (``Sum``, ``Average``, ``Minimum``, ``Maximum``,
``SampleCount`` and percentiles ``p0``..``p100``), for any period that is a multiple of a minute.

Ours, not moto's: moto 5.2 keeps each datapoint as an object in one list that every query
scans, computes no percentiles, and has no AWS/Lambda or AWS/SQS metrics. Here a metric is a
key to its buckets; a bucket keeps its values (for percentiles) and running sums. Buckets older
than ``retention_s`` are dropped, as a sandbox run needs hours, not CloudWatch's 15 months.
Statistics: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

RESOLUTION_S = 60
DEFAULT_RETENTION_S = 6 * 3600
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


@dataclass
class _Bucket:
    values: list[float] = field(default_factory=list)  # single values, kept for percentiles
    count: float = 0.0
    total: float = 0.0
    low: float = math.inf
    high: float = -math.inf
    unit: str | None = None

    def add(self, value: float, count: float = 1.0) -> None:
        self.values.extend([value] * int(count) if count <= 1000 else [value])
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
    values = sorted(v for b in chosen for v in b.values)
    if not values:
        return None  # only statistic sets were published: no percentile, as on CloudWatch
    share = float(match.group(1)) / 100
    # nearest rank: the smallest value with at least share of the datapoints at or below it
    return values[max(0, math.ceil(share * len(values)) - 1)]


class MetricStore:
    """Thread-safe; ``clock`` is the time a datapoint without a timestamp gets."""

    def __init__(self, retention_s: float = DEFAULT_RETENTION_S, clock=time.time):
        self.retention_s, self.clock = retention_s, clock
        self._metrics: dict[MetricKey, dict[int, _Bucket]] = {}
        self._lock = threading.Lock()

    def put(self, key: MetricKey, value: float, *, at: float | None = None, unit: str | None = None, count: float = 1.0) -> None:
        minute = int((at if at is not None else self.clock()) // RESOLUTION_S)
        with self._lock:
            bucket = self._metrics.setdefault(key, {}).setdefault(minute, _Bucket())
            bucket.add(float(value), count)
            bucket.unit = unit or bucket.unit
            self._trim(key)

    def put_sample(self, key: MetricKey, value: float, *, at: float | None = None, unit: str | None = None) -> None:
        """A gauge's one datapoint for its minute, replaced by each newer sample of that minute (as
        SQS publishes ``ApproximateNumberOfMessagesVisible``: one datapoint a minute, a sample)."""
        minute = int((at if at is not None else self.clock()) // RESOLUTION_S)
        with self._lock:
            bucket = _Bucket(unit=unit)
            bucket.add(float(value))
            self._metrics.setdefault(key, {})[minute] = bucket
            self._trim(key)

    def put_statistics(
        self, key: MetricKey, *, count: float, total: float, low: float, high: float, at: float | None = None, unit: str | None = None
    ) -> None:
        minute = int((at if at is not None else self.clock()) // RESOLUTION_S)
        with self._lock:
            bucket = self._metrics.setdefault(key, {}).setdefault(minute, _Bucket())
            bucket.add_statistics(count, total, low, high)
            bucket.unit = unit or bucket.unit

    def _trim(self, key: MetricKey) -> None:
        buckets = self._metrics[key]
        oldest = int((self.clock() - self.retention_s) // RESOLUTION_S)
        if len(buckets) > 2 and min(buckets) < oldest:
            for minute in [m for m in buckets if m < oldest]:
                del buckets[minute]

    def keys(
        self, namespace: str | None = None, name: str | None = None, dimensions: Mapping[str, str | None] | None = None
    ) -> list[MetricKey]:
        """Metrics with data, filtered as ListMetrics filters (a dimension value None matches any value)."""
        with self._lock:
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
        with self._lock:
            buckets = dict(self._metrics.get(key, {}))
        first = int(start // period_s) * period_s
        points = []
        step = period_s // RESOLUTION_S
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
            return next((b.unit for b in self._metrics.get(key, {}).values() if b.unit), None)

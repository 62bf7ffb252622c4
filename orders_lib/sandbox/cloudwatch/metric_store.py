"""The sandbox's CloudWatch metrics: datapoints kept per metric in 1-minute buckets and, for
high-resolution metrics, 1-second buckets too, and the statistics CloudWatch computes from them
(``Sum``, ``Average``, ``Minimum``, ``Maximum``, ``SampleCount`` and percentiles ``p0``..``p100``).

Ours, not moto's: moto 5.2 keeps each datapoint as an object in one list that every query
scans, computes no percentiles, and has no AWS/Lambda or AWS/SQS metrics. Here a metric is a
key to its buckets; a bucket keeps running sums and, for percentiles, each distinct value with
how many times it occurred (PutMetricData's ``Values``/``Counts``: a count may be large or
fractional; equal values share one entry, so a minute of ``Errors``, 0s and 1s, holds two).
Percentiles are ``orders_lib.domain.percentiles``' weighted nearest rank, the definition every
other figure of the project uses.

Resolution, as CloudWatch has it. A datapoint published with ``StorageResolution`` 1
(PutMetricData, or an embedded-metric-format definition) makes its metric high-resolution: it
goes into its second's bucket as well as its minute's, and periods of 1, 5, 10, 20 or 30 s read
the seconds. Every other datapoint (all of AWS/Lambda's and AWS/SQS's) is standard resolution,
kept by the minute only; asked at a sub-minute period it answers once a minute, in the period
that starts the minute, and the other periods of the minute have no datapoint (what CloudWatch
says of a 10 or 30 s alarm on such a metric). Any other period is refused (``InvalidPeriod``):
CloudWatch takes 1, 5, 10, 20, 30 or a multiple of 60. Sub-minute periods read only the last 3
hours, the retention of 1-second data.
Resolution: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Resolution_definition
Periods: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricStat.html
Standard data at 10 or 30 s: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html

Window: 3 hours (``DEFAULT_RETENTION_S``), not CloudWatch's 15 days of minutes; 1-second
buckets are kept 3 hours at most (``HIGH_RESOLUTION_RETENTION_S``, CloudWatch's own figure),
and never longer than the window. Measured with tracemalloc on CPython 3.11: a bucket costs
about 420 bytes with its first value, and each further distinct value about 75 bytes. A
standard count holds 180 minute buckets, about 100 kB; a Duration metric at 100 invocations a
second, all values distinct, about 80 MB over 3 hours (9 GB over 15 days, hence the window).
A high-resolution metric adds up to 10,800 second buckets: a count with data in every second
about 5 MB over 3 hours (the pipeline's six: about 30 MB at most, nothing for the seconds
without data); distinct values at 100 a second about 120 MB (each value sits in its second
and in its minute: about 1.5 times the standard figure).
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
HIGH_RESOLUTION = 1  # StorageResolution of a high-resolution datapoint; 60 (or none) is standard
DEFAULT_RETENTION_S = 3 * 3600
HIGH_RESOLUTION_RETENTION_S = 3 * 3600
SUB_MINUTE_PERIODS = (1, 5, 10, 20, 30)
_PERCENTILE = re.compile(r"^p(\d{1,2}(\.\d+)?|100)$")
BASIC = ("SampleCount", "Sum", "Average", "Minimum", "Maximum")


class UnknownStatistic(ValueError):
    pass


class InvalidPeriod(ValueError):
    """A period CloudWatch does not take (neither 1, 5, 10, 20, 30 nor a multiple of 60)."""


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


def validate_period(period_s: int) -> int:
    """``period_s`` if CloudWatch takes it: 1, 5, 10, 20, 30 or a multiple of 60."""
    if period_s in SUB_MINUTE_PERIODS or (period_s >= RESOLUTION_S and period_s % RESOLUTION_S == 0):
        return period_s
    raise InvalidPeriod(f"{period_s} is not a valid period: use 1, 5, 10, 20, 30 or a multiple of 60")


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
        self._metrics: dict[MetricKey, dict[int, _Bucket]] = {}  # minute buckets, every metric
        self._seconds: dict[MetricKey, dict[int, _Bucket]] = {}  # second buckets, high-resolution metrics only
        self._trimmed_below: float = -math.inf
        self._lock = threading.Lock()

    @property
    def high_resolution_retention_s(self) -> float:
        return min(self.retention_s, HIGH_RESOLUTION_RETENTION_S)

    @property
    def lock(self) -> threading.Lock:
        return self._lock

    def export(self) -> dict[str, object]:
        """The buckets and the trim point, for a snapshot (taken while the caller holds ``lock``)."""
        return {"metrics": self._metrics, "seconds": self._seconds, "trimmed_below": self._trimmed_below}

    def load(self, state: dict[str, object]) -> None:
        with self._lock:
            self._metrics = state["metrics"]  # type: ignore[assignment]  # as export() gave it
            self._seconds = state.get("seconds", {})  # type: ignore[assignment]  # none in a snapshot taken before them
            self._trimmed_below = float(state["trimmed_below"])  # type: ignore[arg-type]

    def put(
        self,
        key: MetricKey,
        value: float,
        *,
        at: float | None = None,
        unit: str | None = None,
        count: float = 1.0,
        high_resolution: bool = False,
    ) -> None:
        """``value`` occurred ``count`` times; a count that is not positive (or not finite) is no occurrence."""
        if not (count > 0 and math.isfinite(count)):
            return
        with self._lock:
            for bucket in self._buckets(key, at, high_resolution):
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
        self,
        key: MetricKey,
        *,
        count: float,
        total: float,
        low: float,
        high: float,
        at: float | None = None,
        unit: str | None = None,
        high_resolution: bool = False,
    ) -> None:
        with self._lock:
            for bucket in self._buckets(key, at, high_resolution):
                bucket.add_statistics(count, total, low, high)
                bucket.unit = unit or bucket.unit

    def _buckets(self, key: MetricKey, at: float | None, high_resolution: bool) -> list[_Bucket]:
        """The buckets a datapoint at ``at`` goes into: its minute's, and its second's for a
        high-resolution datapoint still within 1-second retention. Caller holds the lock."""
        at = self.clock() if at is None else at
        minute = self._minute(at)
        if minute is None:
            return []
        found = [self._metrics.setdefault(key, {}).setdefault(minute, _Bucket())]
        second = int(at)
        if high_resolution and second >= self.clock() - self.high_resolution_retention_s:
            found.append(self._seconds.setdefault(key, {}).setdefault(second, _Bucket()))
        return found

    def _minute(self, at: float | None) -> int | None:
        """The bucket of ``at`` (now when None); None when it is older than the window. Caller holds the lock."""
        minute = int((at if at is not None else self.clock()) // RESOLUTION_S)
        return minute if minute >= self._trim() else None

    def _trim(self) -> int:
        """Drop every bucket older than the window (1-second buckets: older than their 3 hours),
        from every metric, at most once a minute, and the metrics left without one; returns the
        oldest minute kept. Caller holds the lock."""
        now = self.clock()
        oldest = int((now - self.retention_s) // RESOLUTION_S)
        if oldest > self._trimmed_below:
            self._trimmed_below = oldest
            _drop_before(self._metrics, oldest)
            _drop_before(self._seconds, int(now - self.high_resolution_retention_s))
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
        Periods start on multiples of ``period_s`` since the epoch, as CloudWatch aligns them
        (a sub-minute period: on the 5, 10, 20 or 30-second divisions of the minute)."""
        validate_statistic(stat)
        period_s = validate_period(int(period_s))
        with self._lock:  # buckets change under concurrent puts: read them under the lock
            self._trim()
            if period_s % RESOLUTION_S == 0:
                return _aggregate(self._metrics.get(key, {}), stat, start, end, period_s, RESOLUTION_S)
            start = max(start, self.clock() - HIGH_RESOLUTION_RETENTION_S)  # sub-minute data: the last 3 hours
            seconds = self._seconds.get(key)
            if seconds:
                return _aggregate(seconds, stat, start, end, period_s, 1)
            minutes = self._metrics.get(key, {})  # standard resolution: once a minute, at the minute
            points = []
            for minute in range(int(start // RESOLUTION_S), math.ceil(end / RESOLUTION_S)):
                at = minute * RESOLUTION_S
                if minute in minutes and start < at + period_s and at < end:
                    value = compute(stat, [minutes[minute]])
                    if value is not None:
                        points.append((float(at), value))
            return points

    def unit(self, key: MetricKey) -> str | None:
        with self._lock:
            self._trim()
            return next((b.unit for b in self._metrics.get(key, {}).values() if b.unit), None)


def _drop_before(metrics: dict[MetricKey, dict[int, _Bucket]], oldest: int) -> None:
    for key in list(metrics):
        buckets = metrics[key]
        for slot in [s for s in buckets if s < oldest]:
            del buckets[slot]
        if not buckets:
            del metrics[key]


def _aggregate(
    buckets: Mapping[int, _Bucket], stat: str, start: float, end: float, period_s: int, bucket_s: int
) -> list[tuple[float, float]]:
    """``stat`` per period of ``period_s`` in [start, end) over buckets of ``bucket_s`` seconds each
    (keyed by their start / ``bucket_s``); periods without data are left out."""
    points = []
    step = period_s // bucket_s
    first = int(start // period_s) * period_s
    for period_start in range(first, math.ceil(end), period_s):
        if period_start + period_s <= start:
            continue
        slot = period_start // bucket_s
        value = compute(stat, (buckets[s] for s in range(slot, slot + step) if s in buckets))
        if value is not None:
            points.append((float(period_start), value))
    return points

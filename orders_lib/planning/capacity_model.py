"""Does the pipeline keep up with an offered rate on AWS, and which documented limit does it meet first?

The model follows the limits in ``limits`` (each with its page), fed with ``PipelineFigures``:

- **Stream shards** are estimated as one per table partition, and a partition as 1,000 write
  units a second (``stream_shards``): AWS publishes no shard count, so this is an estimate, and
  ``MappingSettings.min_shards`` says how many the table has at least.
- **A shard with a backlog** is read again as soon as a batch is done: each of its
  ``ParallelizationFactor`` concurrent batches then takes ``batch_size`` records per
  ``process_ms(batch_size)``, so one shard processes ``factor × batch_size / batch duration``
  orders a second (``shard_capacity``). The polling interval does not cap it.
- **A shard that is caught up** is polled 4 times a second (or gathers for the batching window):
  its batches hold the records that arrived meanwhile (``batch_records``), and a record waits
  about half a polling interval, the batching window (cut short by a full batch) and one batch's
  duration (``Verdict.lag_s``).
- **Account concurrency** is shared by CreateOrder (rate × its duration) and ProcessOrder (its
  busy batches, at most shards × factor); **SNS** accepts a regional number of messages a
  second; the **table** a default number of write units a second.

``assess`` gives the verdict at one rate; ``sustainable_rate`` the highest rate up to which every
lower rate keeps up; ``sweep`` and ``grid`` the same over rates and over factor × batch size, as
DataFrames.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from . import limits
from .figures import MappingSettings, PipelineFigures

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_RATES = (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000)
DEFAULT_FACTORS = (1, 2, 4, 6, 8, 10)
DEFAULT_BATCH_SIZES = (1, 10, 25, 50, 100)
BATCH_SIZE_STEPS = (10, 20, 25, 50, 100, 200, 500, 1000, 10_000)  # tried, in order, when a factor of 10 is not enough
INFINITE = math.inf
_EPSILON = 1e-9


@dataclass(frozen=True)
class Limit:
    """One limit: the highest offered rate (orders/s) it lets through, and what moves it."""

    name: str
    holds_up_to: float
    detail: str
    lever: str  # what moves it, as a noun phrase
    source: str


@dataclass(frozen=True)
class Verdict:
    """The pipeline at one offered rate: keeps up or not, how long records wait, what it uses."""

    rate: float
    keeps_up: bool
    processed_per_s: float
    shards: int
    shard_capacity_per_s: float
    batch_records: float
    lag_s: float  # write → its batch done, while keeping up (at the start of falling behind)
    age_growth_per_s: float  # seconds of iterator age gained per second; 0 while keeping up
    create_concurrency: float
    process_concurrency: float
    process_slots: int  # shards × ParallelizationFactor: ProcessOrder's most concurrent batches
    available_concurrency: int
    limit: Limit  # the limit met first (the one with the least headroom)
    limits: tuple[Limit, ...]
    setting: str  # what to change, for this rate
    notes: tuple[str, ...]

    @property
    def concurrency(self) -> float:
        return self.create_concurrency + self.process_concurrency

    def age_after(self, seconds: float) -> float:
        """Expected iterator age after ``seconds`` at this rate (it stays at ``lag_s`` while keeping up)."""
        return self.lag_s + self.age_growth_per_s * seconds


def stream_shards(rate: float, figures: PipelineFigures, settings: MappingSettings) -> int:
    """Estimated stream shards at ``rate``: one per partition the table's writes need (1,000 write
    units a second each), at least ``settings.min_shards``. An estimate: AWS publishes no shard
    count, and partitions, once split, stay."""
    write_units = rate * figures.write_units_per_order()
    return max(settings.min_shards, math.ceil(round(write_units / limits.PARTITION_WRITE_UNITS_PER_S, 9)))


def shard_capacity(figures: PipelineFigures, settings: MappingSettings) -> float:
    """Orders a second one shard processes with a backlog: every concurrent batch full."""
    seconds = figures.process_ms(settings.batch_size) / 1000
    if seconds <= 0:
        return INFINITE
    return settings.parallelization_factor * settings.batch_size / seconds


def partition_rate(figures: PipelineFigures) -> float:
    """Orders a second whose writes fill one partition (and so, in the estimate, one shard)."""
    units = figures.write_units_per_order()
    return INFINITE if units <= 0 else limits.PARTITION_WRITE_UNITS_PER_S / units


def batch_cycle(shard_rate: float, figures: PipelineFigures, settings: MappingSettings) -> tuple[float, float]:
    """(records per batch, seconds between batches of one concurrent slot) for a shard that is
    caught up with ``shard_rate`` orders/s: a poll every quarter second (or the batching window,
    ended early by a full batch), never sooner than the last batch finished."""
    factor, size = settings.parallelization_factor, settings.batch_size
    slot_rate = shard_rate / factor
    if slot_rate <= 0:
        return 1.0, 1 / limits.STREAM_POLLS_PER_S
    if settings.batching_window_s > 0:
        gather = min(settings.batching_window_s, size / slot_rate)
    else:
        gather = min(1 / limits.STREAM_POLLS_PER_S, size / slot_rate)
    cycle = gather
    records = 1.0
    for _ in range(100):  # the fixed point of: records = rate × cycle, cycle ≥ the batch's duration
        records = min(float(size), max(1.0, slot_rate * cycle))
        nxt = max(gather, figures.process_ms(records) / 1000)
        if abs(nxt - cycle) < 1e-12:
            break
        cycle = nxt
    return records, cycle


def batch_records(rate: float, figures: PipelineFigures, settings: MappingSettings) -> float:
    """Mean records per ProcessOrder invocation at ``rate``: full batches once behind."""
    shards = stream_shards(rate, figures, settings)
    shard_rate = rate / shards
    if shard_rate > shard_capacity(figures, settings) * (1 + _EPSILON):
        return float(settings.batch_size)
    return batch_cycle(shard_rate, figures, settings)[0]


def limits_for(figures: PipelineFigures, settings: MappingSettings) -> list[Limit]:
    """Every limit the model checks, the tightest first."""
    capacity = shard_capacity(figures, settings)
    batch_ms = figures.process_ms(settings.batch_size)
    stream_holds = INFINITE if capacity >= partition_rate(figures) * (1 - _EPSILON) else settings.min_shards * capacity
    found = [
        Limit(
            "stream processing",
            stream_holds,
            f"{_num(capacity)} orders/s per shard ({settings.parallelization_factor} × batches of {settings.batch_size} "
            f"in {batch_ms:g} ms), {settings.min_shards} shard(s) at least",
            f"ParallelizationFactor (now {settings.parallelization_factor}, up to {limits.PARALLELIZATION_FACTOR_MAX}) and BatchSize",
            limits.SOURCES["stream processing"],
        )
    ]
    available = settings.account_concurrency - settings.other_concurrency
    per_order_s = figures.create_ms / 1000 + batch_ms / 1000 / settings.batch_size
    found.append(
        Limit(
            "Lambda concurrency",
            INFINITE if per_order_s <= 0 else available / per_order_s,
            f"{available:,} concurrent executions for both functions ({per_order_s * 1000:.2f} ms of execution per order)",
            f"concurrent-executions quota of the account (now {settings.account_concurrency:,})",
            limits.SOURCES["Lambda concurrency"],
        )
    )
    quota = limits.sns_publish_quota(settings.region)
    found.append(
        Limit(
            "SNS publish quota",
            INFINITE if figures.notifications_per_order <= 0 else quota / figures.notifications_per_order,
            f"{_num(quota)} messages/s in {settings.region} (Publish and PublishBatch together)",
            f"SNS messages-per-second quota of the Region (now {_num(quota)})",
            limits.SOURCES["SNS publish quota"],
        )
    )
    units = figures.write_units_per_order()
    found.append(
        Limit(
            "DynamoDB table quota",
            INFINITE if units <= 0 else settings.table_max_write_units / units,
            f"{_num(settings.table_max_write_units)} write units/s per table ({units:g} per order)",
            f"table-level write throughput quota (now {_num(settings.table_max_write_units)} units/s)",
            limits.SOURCES["DynamoDB table quota"],
        )
    )
    return sorted(found, key=lambda limit: limit.holds_up_to)


def sustainable_rate(figures: PipelineFigures | None = None, settings: MappingSettings | None = None) -> float:
    """The highest rate up to which every lower rate keeps up (``math.inf``: no limit in the model).

    Above it the estimate can keep up again for a while (more writes, more partitions, more shards),
    but a table's partitions split when its load asks for it, not ahead of it: the first rate that
    falls behind is the one to plan with."""
    figures, settings = figures or PipelineFigures(), settings or MappingSettings()
    return limits_for(figures, settings)[0].holds_up_to


def stream_setting(target: float, figures: PipelineFigures, settings: MappingSettings) -> str:
    """The smallest change of ParallelizationFactor (then BatchSize) with which stream processing
    holds ``target`` orders/s."""
    needed = min(target / settings.min_shards, partition_rate(figures))
    for factor in range(settings.parallelization_factor, limits.PARALLELIZATION_FACTOR_MAX + 1):
        if shard_capacity(figures, replace(settings, parallelization_factor=factor)) >= needed * (1 - _EPSILON):
            if factor == settings.parallelization_factor:
                return "none needed for stream processing"
            return f"raise ParallelizationFactor to {factor}"
    top = limits.PARALLELIZATION_FACTOR_MAX
    for size in BATCH_SIZE_STEPS:
        if size <= settings.batch_size:
            continue
        if shard_capacity(figures, replace(settings, parallelization_factor=top, batch_size=size)) >= needed * (1 - _EPSILON):
            return f"raise ParallelizationFactor to {top} and BatchSize to {size:,}"
    return (
        f"ParallelizationFactor {top} with batches of up to {limits.BATCH_SIZE_MAX:,} is not enough: "
        f"ProcessOrder must take less than {figures.process_per_record_ms:g} ms per record"
    )


def assess(rate: float, figures: PipelineFigures | None = None, settings: MappingSettings | None = None) -> Verdict:
    """The pipeline at ``rate`` offered orders/s: whether it keeps up, the wait, the concurrency,
    the limit met first and the setting to change."""
    if rate <= 0:
        raise ValueError(f"a rate must be above 0 orders/s, got {rate}")
    figures, settings = figures or PipelineFigures(), settings or MappingSettings()
    found = limits_for(figures, settings)
    shards = stream_shards(rate, figures, settings)
    shard_rate = rate / shards
    capacity = shard_capacity(figures, settings)
    slots = shards * settings.parallelization_factor
    stream_behind = shard_rate > capacity * (1 + _EPSILON)
    if stream_behind:
        records, cycle = float(settings.batch_size), figures.process_ms(settings.batch_size) / 1000
        process_concurrency = float(slots)
    else:
        records, cycle = batch_cycle(shard_rate, figures, settings)
        process_concurrency = min(float(slots), rate / records * figures.process_ms(records) / 1000)
    batch_s = figures.process_ms(records) / 1000
    half_poll = 1 / limits.STREAM_POLLS_PER_S / 2
    # Caught up: a record waits for the next poll (half a cycle on average) or, with a batching
    # window, up to the batch's whole gathering time; then for its batch to run.
    lag = (max(half_poll, cycle / 2) if settings.batching_window_s == 0 else half_poll + cycle) + batch_s
    create_concurrency = rate * figures.create_ms / 1000
    available = settings.account_concurrency - settings.other_concurrency

    through = [rate, shards * capacity]
    through += [limit.holds_up_to for limit in found if limit.name != "stream processing" and limit.holds_up_to < rate]
    processed = min(through)
    keeps_up = processed >= rate * (1 - _EPSILON)
    growth = 0.0 if keeps_up else 1 - processed / rate

    first = found[0]
    exceeded = [limit for limit in found if limit.holds_up_to < rate * (1 - _EPSILON)]
    if exceeded:
        setting = "; ".join(
            stream_setting(rate, figures, settings) if limit.name == "stream processing" else f"request a higher {limit.lever}"
            for limit in exceeded
        )
    else:
        setting = f"none needed (that limit moves with {first.lever})"
    notes = _notes(rate, figures, settings, shards, create_concurrency, lag, growth)
    if keeps_up and exceeded:
        notes.append(
            f"keeps up only with the {shards} shards estimated at this rate: while the table has fewer (on the way up), "
            f"it falls behind above {_num(first.holds_up_to)} orders/s"
        )
    return Verdict(
        rate=rate,
        keeps_up=keeps_up,
        processed_per_s=processed,
        shards=shards,
        shard_capacity_per_s=capacity,
        batch_records=records,
        lag_s=lag,
        age_growth_per_s=growth,
        create_concurrency=create_concurrency,
        process_concurrency=process_concurrency,
        process_slots=slots,
        available_concurrency=available,
        limit=first,
        limits=tuple(found),
        setting=setting,
        notes=tuple(notes),
    )


def _notes(
    rate: float, figures: PipelineFigures, settings: MappingSettings, shards: int, create_concurrency: float, lag: float, growth: float
) -> list[str]:
    write_units = rate * figures.write_units_per_order()
    notes = [f"{shards} stream shard(s) estimated from {_num(write_units)} write units/s (1,000 a partition; AWS publishes no shard count)"]
    if write_units > limits.ON_DEMAND_NEW_TABLE_WRITE_UNITS_PER_S:
        notes.append(
            f"{_num(write_units)} write units/s is above the {_num(limits.ON_DEMAND_NEW_TABLE_WRITE_UNITS_PER_S)} a new on-demand "
            "table takes at once: reach it over 30 minutes or more (double the previous peak at a time), or pre-warm the table"
        )
    if create_concurrency > limits.SCALING_ENVIRONMENTS_PER_10_S:
        ramp = math.ceil(create_concurrency / limits.SCALING_ENVIRONMENTS_PER_10_S) * 10
        notes.append(f"from cold, CreateOrder needs about {ramp} s to reach {create_concurrency:,.0f} environments (1,000 per 10 s)")
    if growth > 0:
        if settings.maximum_record_age_s > 0:
            seconds = max(0.0, settings.maximum_record_age_s - lag) / growth
            notes.append(
                f"records reach MaximumRecordAgeInSeconds ({duration_text(settings.maximum_record_age_s)}) after "
                f"{duration_text(seconds)} and are then sent to the DLQ unprocessed"
            )
        else:
            seconds = max(0.0, limits.STREAM_RETENTION_S - lag) / growth
            notes.append(f"records reach the stream's 24-hour retention after {duration_text(seconds)} and are lost")
    return notes


def sweep(
    rates: Iterable[float] = DEFAULT_RATES, figures: PipelineFigures | None = None, settings: MappingSettings | None = None
) -> pd.DataFrame:
    """One row per offered rate: the verdict's figures (iterator age after 10 minutes included)."""
    import pandas as pd

    rows = []
    for rate in rates:
        verdict = assess(rate, figures, settings)
        rows.append(
            {
                "rate": rate,
                "keeps_up": verdict.keeps_up,
                "processed_per_s": verdict.processed_per_s,
                "shards": verdict.shards,
                "batch_records": verdict.batch_records,
                "lag_s": verdict.lag_s,
                "age_growth_per_s": verdict.age_growth_per_s,
                "age_after_10_min_s": verdict.age_after(600),
                "create_concurrency": verdict.create_concurrency,
                "process_concurrency": verdict.process_concurrency,
                "limit": verdict.limit.name,
                "limit_holds_up_to": verdict.limit.holds_up_to,
                "setting": verdict.setting,
            }
        )
    return pd.DataFrame(rows)


def grid(
    factors: Sequence[int] = DEFAULT_FACTORS,
    batch_sizes: Sequence[int] = DEFAULT_BATCH_SIZES,
    figures: PipelineFigures | None = None,
    settings: MappingSettings | None = None,
    rate: float | None = None,
) -> pd.DataFrame:
    """One row per ParallelizationFactor × BatchSize: the sustainable rate and the limit that sets
    it, and with ``rate`` whether that rate keeps up."""
    import pandas as pd

    figures, settings = figures or PipelineFigures(), settings or MappingSettings()
    rows = []
    for factor in factors:
        for size in batch_sizes:
            varied = replace(settings, parallelization_factor=factor, batch_size=size)
            first = limits_for(figures, varied)[0]
            row: dict[str, object] = {"factor": factor, "batch_size": size, "sustainable_rate": first.holds_up_to, "limit": first.name}
            if rate is not None:
                row["keeps_up"] = assess(rate, figures, varied).keeps_up
            rows.append(row)
    return pd.DataFrame(rows)


def _num(value: float) -> str:
    return "no limit" if math.isinf(value) else f"{value:,.0f}"


def duration_text(seconds: float) -> str:
    """Seconds as a reader takes them: s, min or h."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"

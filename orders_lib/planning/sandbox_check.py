"""The capacity model checked against the sandbox, at the sandbox's own scale.

The model is given the sandbox's own settings (its mapping's ParallelizationFactor and batch
size, one shard, its workers per function) and the figures measured on it (``measure``: the
sandbox's durations, slower than AWS's). On AWS every function runs on capacity of its own; on
the sandbox everything shares one machine, and every AWS call of both functions is served by
one interpreter: its one core is a limit the AWS model does not have. So the prediction is the
lowest of:

- **stream processing**, the AWS model's limit (``capacity_model.sustainable_rate``):
  factor × batch size ÷ a batch's time per shard, one shard; a batch's time is the function's
  duration plus the lane's measured gap between invocations (the poller reading the stream and
  handing the batch over: ``measure.lane_gap_ms``);
- **CreateOrder's workers**: ``workers`` invocations at once, each ``create_ms`` long;
- **the sandbox's core**: 1 ÷ its CPU per order, measured over the sample (with full batches
  when the sample is sent as fast as it is answered, as ``measure`` does by default).

``run`` then writes ``orders`` straight into the table, as CreateOrder writes them, from several
writers as fast as the sandbox takes them: through CreateOrder the callers could not offer more
than the pipeline processes (both share the sandbox's core), so the stream had no backlog and
the check measured the offered rate, not the capacity. Written directly, the orders arrive faster
than one lane processes them: the PROCESSED rate (from the items' ``processedAt``, middle 80 %,
``ops.capacity.processing_rate``) is the pipeline's, and the iterator age (``AWS/Lambda
IteratorAge`` maximum, which the sandbox publishes for each batch it hands over) grows as the
model says a backlog does. The core's bound then uses the sandbox's CPU per order measured over
the run (a directly written order costs it less than one through CreateOrder); CreateOrder's
workers are no bound there. The batches' durations and the lane's gap between them are the run's
own too (``run_figures``: its REPORT lines): on the sandbox a batch's duration moves with what
else its one core serves (a full batch took 109 ms in a sample sent through CreateOrder, 77 ms
in the check that followed), so the check tests what the model says a lane and a backlog do, at
the durations the lane had.
``compare`` puts model and measurement side by side; a difference over ``TOLERANCE`` is flagged.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from .capacity_model import assess, sustainable_rate
from .figures import MappingSettings, PipelineFigures
from .measure import lane_gap_ms, process_batches, window_events

TOLERANCE = 0.25  # |model / measured - 1| above this is a disagreement


@dataclass(frozen=True)
class SandboxSettings:
    """What the sandbox runs with: its mapping's settings and its workers per function."""

    parallelization_factor: int
    batch_size: int
    batching_window_s: float
    workers: int

    def mapping(self) -> MappingSettings:
        return MappingSettings(
            batch_size=self.batch_size,
            parallelization_factor=self.parallelization_factor,
            batching_window_s=self.batching_window_s,
            min_shards=1,
        )


def read_settings(lambda_client: Any, mapping_id: str, control: Callable[[str], Any]) -> SandboxSettings:
    mapping = lambda_client.get_event_source_mapping(UUID=mapping_id)
    capacity = control("capacity")
    return SandboxSettings(
        parallelization_factor=int(mapping.get("ParallelizationFactor") or 1),
        batch_size=int(mapping["BatchSize"]),
        batching_window_s=float(mapping.get("MaximumBatchingWindowInSeconds") or 0),
        workers=int(capacity["max_workers"]),
    )


@dataclass(frozen=True)
class Bound:
    name: str
    orders_per_s: float
    detail: str


@dataclass(frozen=True)
class Prediction:
    """The model's sandbox: its bounds, the lowest first, and what it expects at ``offered_per_s``."""

    bounds: tuple[Bound, ...]
    offered_per_s: float
    processed_per_s: float
    lag_s: float

    @property
    def capacity(self) -> Bound:
        return self.bounds[0]

    def oldest_wait_s(self, offering_s: float) -> float:
        """The iterator age the last batch shows after ``offering_s`` seconds of offering: the last
        order written waits for the backlog ahead of it, (offered ÷ processed - 1) × offering_s,
        drained at the processed rate, plus the lag of a caught-up shard."""
        if self.processed_per_s <= 0:
            return math.inf
        return self.lag_s + max(0.0, self.offered_per_s / self.processed_per_s - 1) * offering_s


def lane_figures(figures: PipelineFigures, gap_ms: float | None) -> PipelineFigures:
    """The figures with a lane's time between invocations (``measure.lane_gap_ms``) added to each
    batch: the time a lane is busy per batch is the function's duration plus that gap."""
    return replace(figures, process_fixed_ms=figures.process_fixed_ms + (gap_ms or 0.0))


def sandbox_bounds(
    figures: PipelineFigures,
    settings: SandboxSettings,
    sandbox_cpu_ms_per_order: float | None,
    gap_ms: float | None = None,
    through_create: bool = True,
) -> list[Bound]:
    mapping = settings.mapping()
    batch_ms = figures.process_ms(settings.batch_size)
    gap = f" + {gap_ms:.0f} ms between batches" if gap_ms else ""
    bounds = [
        Bound(
            "stream processing (the AWS model)",
            sustainable_rate(lane_figures(figures, gap_ms), replace(mapping, account_concurrency=10**6)),
            f"{settings.parallelization_factor} × batches of {settings.batch_size} in {batch_ms:.0f} ms{gap}, one shard",
        ),
    ]
    if through_create:
        bounds.append(
            Bound(
                "CreateOrder's workers",
                math.inf if figures.create_ms <= 0 else settings.workers * 1000 / figures.create_ms,
                f"{settings.workers} at once, {figures.create_ms:.1f} ms each",
            )
        )
    if sandbox_cpu_ms_per_order:
        bounds.append(
            Bound(
                "the sandbox's core",
                1000 / sandbox_cpu_ms_per_order,
                f"{sandbox_cpu_ms_per_order:.1f} ms of its CPU per order, one interpreter",
            )
        )
    return sorted(bounds, key=lambda bound: bound.orders_per_s)


def predict(
    figures: PipelineFigures,
    settings: SandboxSettings,
    sandbox_cpu_ms_per_order: float | None,
    offered_per_s: float,
    gap_ms: float | None = None,
    through_create: bool = True,
) -> Prediction:
    """What the model expects on the sandbox at ``offered_per_s``: processed rate and iterator age
    (``through_create``: the orders come through CreateOrder, whose workers are then a bound)."""
    bounds = sandbox_bounds(figures, settings, sandbox_cpu_ms_per_order, gap_ms, through_create)
    processed = min(offered_per_s, bounds[0].orders_per_s)
    verdict = assess(max(offered_per_s, 1e-6), lane_figures(figures, gap_ms), replace(settings.mapping(), account_concurrency=10**6))
    return Prediction(tuple(bounds), offered_per_s, processed, verdict.lag_s)


@dataclass(frozen=True)
class Run:
    """What the sandbox did while a rate was offered."""

    offered_per_s: float  # requests/s the callers achieved
    offering_s: float  # first to last order written
    processed_per_s: float
    orders: int
    iterator_age_max_s: float | None  # AWS/Lambda IteratorAge maximum over the run's minutes
    last_order_wait_s: float  # the writes' end → the last PROCESSED
    batch_ms: float | None = None  # a full batch's duration in this run (REPORT lines, mean)
    gap_ms: float | None = None  # the lane's median time between full batches in this run
    sandbox_cpu_ms_per_order: float | None = None  # the sandbox process's CPU over the run, per order


def iterator_age_max_s(cloudwatch: Any, function: str, start: datetime, end: datetime) -> float | None:
    """ProcessOrder's IteratorAge maximum over the minutes from ``start`` to ``end`` (seconds; a
    standard-resolution metric: one-minute periods), None if none was published."""
    response = cloudwatch.get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName="IteratorAge",
        Dimensions=[{"Name": "FunctionName", "Value": function}],
        StartTime=start.replace(second=0, microsecond=0),
        EndTime=end,
        Period=60,
        Statistics=["Maximum"],
    )
    points = response.get("Datapoints", [])
    return max(p["Maximum"] for p in points) / 1000 if points else None


def run(
    aws: Callable[[str], Any],
    new_client: Callable[[str], Any],
    outputs: Any,
    repository: Any,
    orders: int,
    *,
    writers: int = 4,
    seed: int = 70,
    timeout_s: float = 120.0,
    control: Callable[[str], Any] | None = None,
) -> Run:
    """Write ``orders`` into the table from ``writers`` threads as fast as they go (see the
    module) and measure how fast the pipeline PROCESSED them and how old its iterator grew."""
    from concurrent.futures import ThreadPoolExecutor

    from ..aws.repository import OrderRepository
    from ..domain.clock import from_iso
    from ..ops.capacity import processing_rate, wait_in_order
    from ..ops.sample_orders import sample_orders

    writer = OrderRepository(new_client("dynamodb"), outputs.table_name)  # boto3 clients are thread-safe
    batch = sample_orders(orders, seed=seed)  # the same seed, the same ids: a seed of its own
    cpu_before = _cpu_s(control)
    started = datetime.now(UTC) - timedelta(seconds=1)
    writing = time.time()
    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(writer.create, batch))
    offering = time.time() - writing  # the items' createdAt is when the orders were made, before the writes
    order_ids = [order.order_id for order in batch]
    items = [item for item in wait_in_order(repository, order_ids, timeout_s) if item.get("processedAt")]
    cpu_after = _cpu_s(control)
    if len(items) < len(order_ids):
        raise RuntimeError(f"{len(items)} of {len(order_ids)} orders PROCESSED within {timeout_s:.0f} s")
    time.sleep(1.0)  # the last batch's metric is recorded as it is handed over; let it land
    processed = [from_iso(item["processedAt"]).timestamp() for item in items]
    ended = datetime.now(UTC) + timedelta(seconds=1)
    age = iterator_age_max_s(aws("cloudwatch"), outputs.process_function, started, ended)
    batches = process_batches(
        window_events(aws("logs"), outputs.log_group("process"), int(started.timestamp() * 1000), int(ended.timestamp() * 1000))
    )
    full = [b.report.duration_ms for b in batches if b.records == max((b.records for b in batches), default=0)]
    return Run(
        offered_per_s=len(items) / offering if offering > 0 else 0.0,
        offering_s=offering,
        processed_per_s=processing_rate(processed),
        orders=len(items),
        iterator_age_max_s=age,
        last_order_wait_s=max(processed) - (writing + offering),
        batch_ms=sum(full) / len(full) if full else None,
        gap_ms=lane_gap_ms(batches),
        sandbox_cpu_ms_per_order=(cpu_after - cpu_before) * 1000 / len(items) if cpu_before is not None and cpu_after is not None else None,
    )


def _cpu_s(control: Callable[[str], Any] | None) -> float | None:
    """The sandbox process's CPU seconds so far (its health), None without its control API."""
    if control is None:
        return None
    cpu = control("health").get("process", {}).get("cpu_s")
    return float(cpu) if cpu is not None else None


def run_figures(figures: PipelineFigures, run: Run, batch_size: int) -> PipelineFigures:
    """``figures`` with ProcessOrder's duration set to the run's own full batches (``batch_ms`` for
    ``batch_size`` records: the per-record part kept, at most the whole, the rest fixed)."""
    if not run.batch_ms:
        return figures
    per_record = min(figures.process_per_record_ms, run.batch_ms / batch_size)
    fixed = max(0.0, run.batch_ms - per_record * batch_size)  # not a rounding error's -1e-14
    return replace(figures, process_fixed_ms=fixed, process_per_record_ms=per_record)


@dataclass(frozen=True)
class Row:
    quantity: str
    model: float
    measured: float

    @property
    def ratio(self) -> float:
        return self.model / self.measured if self.measured else math.inf

    @property
    def agrees(self) -> bool:
        return verdict_agrees(self.model, self.measured)

    @property
    def verdict(self) -> str:
        return verdict_text(self.model, self.measured)


def verdict_agrees(model: float, measured: float, tolerance: float = TOLERANCE) -> bool:
    """Whether the model is within ``tolerance`` of the measurement (relative to the measurement)."""
    if measured == 0:
        return model == 0
    return abs(model / measured - 1) <= tolerance + 1e-12


def verdict_text(model: float, measured: float, tolerance: float = TOLERANCE) -> str:
    if verdict_agrees(model, measured, tolerance):
        return f"agrees (within {tolerance:.0%})"
    ratio = model / measured if measured else math.inf
    return f"DISAGREES: the model is {ratio:.2f}× the measurement (over {tolerance:.0%} off)"


def compare(prediction: Prediction, measured: Run) -> list[Row]:
    """Model and measurement side by side: the PROCESSED rate, and the iterator age at the end."""
    rows = [Row("PROCESSED orders/s", prediction.processed_per_s, measured.processed_per_s)]
    if measured.iterator_age_max_s is not None:
        rows.append(Row("IteratorAge, largest (s)", prediction.oldest_wait_s(measured.offering_s), measured.iterator_age_max_s))
    return rows

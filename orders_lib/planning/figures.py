"""The models' inputs: what one order costs the pipeline, and how the stream mapping is set.

``PipelineFigures`` are figures a caller measures (calls, bytes and milliseconds per order); until
a run measures them, its defaults stand in, each with where it comes from. ``MappingSettings``
are the knobs an operator turns (ParallelizationFactor, batch size, batching window) and the
account's quotas. Both are plain frozen dataclasses: ``dataclasses.replace`` makes a variant.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from . import limits

MEBIBYTE = 1024 * 1024
SNS_CHUNK_BYTES = 64 * 1024  # SNS bills each 64 KB chunk of a publish as one request
SQS_CHUNK_BYTES = 64 * 1024  # and SQS each 64 KB chunk of a request


@dataclass(frozen=True)
class PipelineFigures:
    """Per-order figures; the defaults are estimates from the code and the sandbox until measured.

    Durations are warm ones on AWS (the sandbox runs slower and is not the reference): CreateOrder
    validates and makes one conditional ``PutItem``; a ProcessOrder batch makes one consistent
    ``BatchGetItem``, one ``PublishBatch`` per 10 orders and one conditional ``UpdateItem`` per
    order, so its time is a fixed part plus a part per record.
    """

    create_ms: float = 30.0
    process_fixed_ms: float = 40.0  # per invocation: BatchGetItem, PublishBatch, Powertools
    process_per_record_ms: float = 6.0  # per order: the conditional UpdateItem, parsing
    billing_granularity_ms: float = limits.BILLING_GRANULARITY_MS
    memory_mb: int = 256  # both functions, ARM64 (cdk/order_stack.py)
    item_bytes: int = 800  # a stored order of a few lines, PROCESSED (the larger image)
    writes_per_order: float = 2.0  # the conditional put (NEW) and the update (PROCESSED)
    failed_writes_per_order: float = 0.0  # repeated requests: a failed condition still consumes
    reads_per_order: float = 1.0  # ProcessOrder's consistent BatchGetItem, one item per order
    strongly_consistent_reads: bool = True
    notifications_per_order: float = 1.0
    notification_bytes: int = 450  # the body (ids, status, totals, times) and four attributes
    # SNS deliveries per order by protocol ("sqs", "lambda", "http", "email"): the stack has no
    # subscriber of its own, so none by default.
    sns_deliveries_per_order: Mapping[str, float] = field(default_factory=dict)
    sqs_messages_per_order: float = 0.0  # a subscriber queue's messages; the DLQ's are ~0
    sqs_requests_per_message: float = 3.0  # sent (by SNS), received, deleted
    sqs_message_bytes: int = 1024
    log_bytes_per_order: float = 1500.0  # START/END/REPORT, the order's lines, an EMF line each
    # KMS: DynamoDB, SNS and SQS cache data keys (about five minutes per key and caller), and
    # Lambda decrypts its environment once per cold start, so an order costs far less than one
    # request. 0.001 is a generous estimate at steady load; a measured figure replaces it.
    kms_requests_per_order: float = 0.001
    calls_per_order: Mapping[str, float] | None = None  # measured API calls by operation, shown as given
    # Fixed, per month: the stack's key, its six alarms and dashboard, the pipeline's six metrics.
    kms_keys: int = 1
    alarms: int = 6
    dashboards: int = 1
    custom_metrics: int = 6
    log_retention_months: float = 1.0  # LOG_RETENTION: one month
    log_stored_share: float = 1.0  # stored bytes per ingested byte (compression would lower it)

    def __post_init__(self) -> None:
        for name in ("create_ms", "process_fixed_ms", "process_per_record_ms", "billing_granularity_ms"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 or more, got {getattr(self, name)}")
        if self.memory_mb < 128 or self.item_bytes < 1 or self.notification_bytes < 1:
            raise ValueError("memory_mb must be at least 128, item_bytes and notification_bytes at least 1")

    @classmethod
    def from_file(cls, path: Path) -> PipelineFigures:
        """The figures a run measured: ``capacity.json``'s ``figures``, as ``06_capacity`` writes it
        (a file holding only those figures is read too). ValueError names what is wrong."""
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise ValueError(f"cannot read figures from {path}: {error}") from error
        figures = data.get("figures", data) if isinstance(data, dict) else None
        if not isinstance(figures, dict):
            raise ValueError(f"{path} holds no figures (expected 06_capacity's capacity.json)")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(figures) - known)
        if unknown:
            raise ValueError(f"{path}: unknown figure(s) {', '.join(unknown)}")
        try:
            return cls(**figures)
        except TypeError as error:
            raise ValueError(f"{path}: {error}") from error

    def process_ms(self, records: float) -> float:
        """One ProcessOrder invocation's duration for a batch of ``records``."""
        return self.process_fixed_ms + self.process_per_record_ms * records

    def write_units_per_order(self) -> float:
        """Write request units one order consumes: every write, failed conditions included."""
        return (self.writes_per_order + self.failed_writes_per_order) * write_units(self.item_bytes)

    def read_units_per_order(self) -> float:
        return self.reads_per_order * read_units(self.item_bytes, self.strongly_consistent_reads)


@dataclass(frozen=True)
class MappingSettings:
    """The event source mapping's settings and the account's quotas the model checks."""

    batch_size: int = 10
    parallelization_factor: int = 1
    batching_window_s: float = 0.0
    region: str = "us-east-1"
    account_concurrency: int = limits.ACCOUNT_CONCURRENCY
    other_concurrency: int = 0  # used by the account's other functions
    # Stream shards at the least: a new on-demand table may start with several partitions (its
    # 4,000 WRU/s at once suggests about four); one is the cautious assumption until measured.
    min_shards: int = 1
    table_max_write_units: float = limits.TABLE_MAX_WRITE_UNITS_PER_S
    maximum_record_age_s: float = 3600.0  # the stack's MaximumRecordAgeInSeconds: older records go to the DLQ

    def __post_init__(self) -> None:
        if not 1 <= self.parallelization_factor <= limits.PARALLELIZATION_FACTOR_MAX:
            raise ValueError(f"ParallelizationFactor is 1 to {limits.PARALLELIZATION_FACTOR_MAX}, got {self.parallelization_factor}")
        if not 1 <= self.batch_size <= limits.BATCH_SIZE_MAX:
            raise ValueError(f"BatchSize is 1 to {limits.BATCH_SIZE_MAX:,}, got {self.batch_size}")
        if not 0 <= self.batching_window_s <= limits.BATCHING_WINDOW_MAX_S:
            raise ValueError(f"MaximumBatchingWindowInSeconds is 0 to {limits.BATCHING_WINDOW_MAX_S:g}, got {self.batching_window_s}")
        if self.min_shards < 1 or self.account_concurrency < 1 or self.other_concurrency < 0:
            raise ValueError("min_shards and account_concurrency must be at least 1, other_concurrency 0 or more")


def write_units(item_bytes: int) -> int:
    """DynamoDB write request units for one write of an item: 1 per started KB (1,024 bytes)."""
    return max(1, math.ceil(item_bytes / limits.WRITE_UNIT_BYTES))


def read_units(item_bytes: int, strongly_consistent: bool = True) -> float:
    """Read request units for one read: 1 per started 4 KB, half that when eventually consistent."""
    units = max(1, math.ceil(item_bytes / limits.READ_UNIT_BYTES))
    return float(units) if strongly_consistent else units / 2


def chunks(payload_bytes: float, chunk_bytes: int = SNS_CHUNK_BYTES) -> int:
    """Billed requests for one request carrying ``payload_bytes``: one per started chunk."""
    return max(1, math.ceil(payload_bytes / chunk_bytes))


def billed_ms(duration_ms: float, granularity_ms: float = limits.BILLING_GRANULARITY_MS) -> float:
    """A Lambda duration as billed: rounded up to the granularity (1 ms)."""
    if granularity_ms <= 0:
        return duration_ms
    return math.ceil(round(duration_ms / granularity_ms, 9)) * granularity_ms


def gb_seconds(memory_mb: int, duration_ms: float, granularity_ms: float = limits.BILLING_GRANULARITY_MS) -> float:
    """Lambda's compute for one invocation: memory in GB (1,024 MB) × billed seconds."""
    return memory_mb / 1024 * billed_ms(duration_ms, granularity_ms) / 1000

"""The capacity model's per-order figures, measured on the target a run points at.

``measure`` sends a sample of orders through CreateOrder (as ``02_create_orders``' bulk
generator does), waits until each is notified, then reads what the target itself recorded in
the run's window, with read APIs only:

- **Durations** from Lambda's ``REPORT`` lines in the two functions' log groups (duration,
  billed duration, max memory); a ProcessOrder invocation's batch size from its ``batch
  received`` line (same request id). ``fit_process`` fits ``process_fixed_ms`` +
  ``process_per_record_ms`` × records by least squares over the batches, and says when the
  batch sizes did not vary enough to tell the two apart.
- **Item size** of each stored order by DynamoDB's rules (``item_size``): attribute names plus
  values; a write consumes one unit per started KB (``figures.write_units``).
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
- **Notification size**: the SNS message as ProcessOrder publishes it (``domain.notification``:
  body plus message attributes' names, types and values), rebuilt from each stored order.
- **Log bytes per order**: the UTF-8 bytes of every event in both log groups in the window,
  divided by the orders (CloudWatch Logs also counts 26 bytes per event towards PutLogEvents'
  batch limit; that overhead is shown apart, not added).
- **API calls per order, by operation**: on the sandbox counted by the sandbox (every request a
  function signs, by operation: ``/_sandbox/iam``'s ``calls``); on AWS derived from the
  handlers' log lines and the calls the code makes for them (``calls_from_logs``).
- **KMS requests per order** are not measured (see ``KMS_NOTE``): the default estimate stays.

No pandas here: the workbook (``orders_lib.workbook.capacity``) makes the tables and charts.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from ..domain.model import Order
from ..domain.notification import build_notification
from ..ops.trace_logs import Report, filter_events, json_line, parse_report
from .figures import PipelineFigures, write_units

LOG_EVENT_OVERHEAD_BYTES = 26  # PutLogEvents: each event counts its message's UTF-8 bytes plus 26
MIN_SIZE_SPREAD = 2  # the batch sizes' range below which fixed and per-record parts are not told apart
KMS_NOTE = (
    "estimated, not measured: the sandbox encrypts nothing, so its services make no KMS request to count, and on AWS "
    "the requests DynamoDB, SNS and SQS make with the stack's key are not visible to read APIs per key. DynamoDB and SNS "
    "cache data keys (minutes per key and caller) and Lambda decrypts a function's environment once per cold start, "
    "so an order costs far less than one request: the default 0.001 stands"
)


@dataclass(frozen=True)
class Batch:
    """One ProcessOrder invocation: its batch size and what its REPORT line says."""

    request_id: str
    records: int
    report: Report
    ended_ms: int = 0  # the REPORT line's timestamp

    @property
    def started_ms(self) -> float:
        return self.ended_ms - self.report.duration_ms


def lane_gap_ms(batches: Sequence[Batch]) -> float | None:
    """The median time a lane spends between two invocations while it has a backlog: from one
    batch's end to the next full batch's start (reading the stream, handing the batch over). Only
    meaningful with ParallelizationFactor 1 (one lane): batches then never overlap."""
    ordered = sorted(batches, key=lambda b: b.ended_ms)
    full = max((b.records for b in ordered), default=0)
    gaps = sorted(
        max(0.0, nxt.started_ms - prev.ended_ms)
        for prev, nxt in itertools.pairwise(ordered)
        if nxt.records == full and prev.records == full
    )
    return gaps[len(gaps) // 2] if gaps else None


@dataclass(frozen=True)
class ProcessFit:
    """ProcessOrder's duration as a fixed part per invocation plus a part per record."""

    fixed_ms: float
    per_record_ms: float
    batches: int
    sizes: tuple[int, ...]  # the distinct batch sizes seen
    separable: bool
    note: str


def fit_process(batches: Sequence[tuple[int, float]], default: PipelineFigures | None = None) -> ProcessFit:
    """Least squares over (records, duration ms) of each batch: duration = fixed + per_record ×
    records. With batch sizes spread by less than ``MIN_SIZE_SPREAD`` the two parts cannot be
    told apart: the mean duration is then split in ``default``'s proportion, and the note says so.
    A negative fitted part (noise) is set to 0 and the other refitted."""
    default = default or PipelineFigures()
    if not batches:
        raise ValueError("no ProcessOrder batch was measured: nothing to fit")
    sizes = tuple(sorted({n for n, _ in batches}))
    count = len(batches)
    mean_n = sum(n for n, _ in batches) / count
    mean_d = sum(d for _, d in batches) / count
    if sizes[-1] - sizes[0] < MIN_SIZE_SPREAD:
        share = default.process_fixed_ms / default.process_ms(mean_n) if default.process_ms(mean_n) > 0 else 0.0
        fixed = mean_d * share
        per_record = (mean_d - fixed) / mean_n
        note = (
            f"batch sizes did not vary enough to separate the fixed and per-record parts (sizes {', '.join(map(str, sizes))}): "
            f"the mean {mean_d:.1f} ms for {mean_n:.1f} records is split as the defaults split it"
        )
        return ProcessFit(fixed, per_record, count, sizes, False, note)
    sxx = sum((n - mean_n) ** 2 for n, _ in batches)
    sxy = sum((n - mean_n) * (d - mean_d) for n, d in batches)
    per_record = sxy / sxx
    fixed = mean_d - per_record * mean_n
    note = f"least squares over {count} batches of {sizes[0]} to {sizes[-1]} records"
    if fixed < 0:
        fixed, per_record = 0.0, sum(d for _, d in batches) / sum(n for n, _ in batches)
        note += "; the fitted fixed part was below 0 (noise) and is set to 0"
    elif per_record < 0:
        fixed, per_record = mean_d, 0.0
        note += "; the fitted per-record part was below 0 (noise) and is set to 0"
    return ProcessFit(fixed, per_record, count, sizes, True, note)


# -- DynamoDB item size ------------------------------------------------------------


def number_size(value: Decimal | int | float) -> int:
    """A number's bytes: 1 per two significant digits (leading and trailing zeros trimmed), plus 1."""
    digits = format(Decimal(str(value)).normalize(), "f").lstrip("-").replace(".", "").strip("0")
    return math.ceil(max(1, len(digits)) / 2) + 1


def value_size(value: Any) -> int:
    """An attribute value's bytes by DynamoDB's rules (without its name)."""
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, (int, float, Decimal)):
        return number_size(value)
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    if isinstance(value, Mapping):  # 3 bytes, plus 1 per element, plus names and values
        return 3 + sum(1 + len(str(name).encode()) + value_size(inner) for name, inner in value.items())
    if isinstance(value, (set, frozenset)):  # string, number or binary sets: their elements
        return sum(value_size(inner) for inner in value)
    if isinstance(value, (list, tuple)):
        return 3 + sum(1 + value_size(inner) for inner in value)
    raise TypeError(f"no DynamoDB type for {type(value).__name__}")


def item_size(item: Mapping[str, Any]) -> int:
    """An item's size in bytes (as boto3's resource or ``TypeDeserializer`` returns it): the sum of
    its attribute names' UTF-8 bytes and its values' sizes."""
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def new_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """The item as CreateOrder wrote it: status NEW, without ProcessOrder's two times."""
    written = {k: v for k, v in item.items() if k not in ("processedAt", "notifiedAt")}
    if "status" in written:
        written["status"] = "NEW"
    return written


def notification_bytes(item: Mapping[str, Any]) -> int:
    """The SNS message ProcessOrder publishes for this stored order: the body's UTF-8 bytes plus
    each message attribute's name, data type and value (SNS counts all of them in a message's size)."""
    note = build_notification(Order.from_item(dict(item)))
    attributes = sum(len(name.encode()) + len(b"String") + len(value.encode()) for name, value in note.attributes.items())
    return len(note.message.encode()) + attributes


# -- logs ------------------------------------------------------------------------------


def log_bytes(events: Iterable[Mapping[str, Any]]) -> int:
    """The events' message bytes (UTF-8)."""
    return sum(len(str(event["message"]).encode()) for event in events)


def reports(events: Iterable[Mapping[str, Any]]) -> list[Report]:
    found = (parse_report(str(event["message"])) for event in events)
    return [report for report in found if report is not None]


def lines(events: Iterable[Mapping[str, Any]], message: str) -> dict[str, dict[str, Any]]:
    """The structured lines with this ``message``, by the invocation's request id."""
    found: dict[str, dict[str, Any]] = {}
    for event in events:
        line = json_line(str(event["message"]))
        if line and line.get("message") == message and isinstance(line.get("function_request_id"), str):
            found.setdefault(line["function_request_id"], line)
    return found


def process_batches(events: Sequence[Mapping[str, Any]]) -> list[Batch]:
    """ProcessOrder's invocations with both a REPORT and a ``batch received`` line."""
    sizes = {rid: int(line.get("batch_size", 0)) for rid, line in lines(events, "batch received").items()}
    found = []
    for event in events:
        report = parse_report(str(event["message"]))
        if report is not None and sizes.get(report.request_id, 0) > 0:
            found.append(Batch(report.request_id, sizes[report.request_id], report, int(event["timestamp"])))
    return found


def calls_from_logs(create_events: Sequence[Mapping[str, Any]], process_events: Sequence[Mapping[str, Any]]) -> Counter[str]:
    """The calls the handlers make, derived from their log lines and the code: CreateOrder one
    ``PutItem`` per answer, and a ``GetItem`` per repeat (status 200); ProcessOrder per batch
    with work one ``BatchGetItem``, one ``PublishBatch`` per 10 published, one ``UpdateItem``
    per published order."""
    calls: Counter[str] = Counter()
    for line in lines(create_events, "create-order answered").values():
        status = line.get("status_code")
        if status in (200, 201, 409):
            calls["dynamodb.PutItem"] += 1
        if status in (200, 409):
            calls["dynamodb.GetItem"] += 1
    for line in lines(process_events, "batch done").values():
        notified = int(line.get("notified", 0))
        if line.get("orderIds"):
            calls["dynamodb.BatchGetItem"] += 1
        if notified:
            calls["sns.PublishBatch"] += math.ceil(notified / 10)
            calls["dynamodb.UpdateItem"] += notified
    return calls


def window_events(logs: Any, group: str, start_ms: int, end_ms: int, max_pages: int = 200) -> list[dict[str, Any]]:
    """Every event of ``group`` in [start, end] (FilterLogEvents without a pattern, every page)."""
    return filter_events(logs, group, None, start_ms, end_ms, max_pages)


# -- the measurement -------------------------------------------------------------------


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def quantile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else 0.0


@dataclass
class Measurement:
    """What one sample measured; ``figures()`` turns it into the model's inputs."""

    orders: int
    seconds: float  # from the first request to the last order notified
    offered_per_s: float
    create: list[Report]
    batches: list[Batch]
    fit: ProcessFit
    item_bytes: list[int]
    new_item_bytes: list[int]
    notification_bytes: list[int]
    log_bytes: dict[str, int]  # by function
    log_events: dict[str, int]
    calls: Counter[str]
    calls_source: str
    sandbox_cpu_s: float | None = None  # the sandbox process's CPU over the sample
    workers_cpu_s: float | None = None  # its function workers' CPU
    client_cpu_s: float | None = None  # this process's CPU (the load generator)
    notes: list[str] = field(default_factory=list)

    @property
    def create_ms(self) -> float:
        return mean([r.duration_ms for r in self.create])

    @property
    def lane_gap_ms(self) -> float | None:
        return lane_gap_ms(self.batches)

    @property
    def cold_starts(self) -> int:
        return sum(1 for r in [*self.create, *(b.report for b in self.batches)] if r.init_ms is not None)

    @property
    def log_bytes_per_order(self) -> float:
        return sum(self.log_bytes.values()) / self.orders if self.orders else 0.0

    def calls_per_order(self) -> dict[str, float]:
        return {name: count / self.orders for name, count in sorted(self.calls.items())} if self.orders else {}

    def writes_per_order(self) -> float | None:
        per = self.calls_per_order()
        writes = sum(per.get(name, 0.0) for name in ("dynamodb.PutItem", "dynamodb.UpdateItem"))
        return writes or None

    def cpu_ms_per_order(self) -> dict[str, float]:
        """Milliseconds of CPU per order of the sandbox process, its workers and the load generator."""
        parts = {"sandbox": self.sandbox_cpu_s, "workers": self.workers_cpu_s, "client": self.client_cpu_s}
        return {name: seconds * 1000 / self.orders for name, seconds in parts.items() if seconds is not None and self.orders}

    def figures(self, default: PipelineFigures | None = None) -> PipelineFigures:
        """The model's inputs: the measured figures, the defaults where nothing was measured."""
        default = default or PipelineFigures()
        changes: dict[str, Any] = {
            "create_ms": round(self.create_ms, 2),
            "process_fixed_ms": round(self.fit.fixed_ms, 2),
            "process_per_record_ms": round(self.fit.per_record_ms, 3),
            "item_bytes": max(self.item_bytes),
            "notification_bytes": math.ceil(mean(self.notification_bytes)),
            "log_bytes_per_order": round(self.log_bytes_per_order, 1),
            "calls_per_order": self.calls_per_order(),
        }
        writes = self.writes_per_order()
        if writes:
            changes["writes_per_order"] = round(writes, 3)
        return replace(default, **changes)

    def rows(self, default: PipelineFigures | None = None) -> list[dict[str, Any]]:
        """What was measured next to the default it replaces, and how."""
        default = default or PipelineFigures()
        measured = self.figures(default)
        durations = [r.duration_ms for r in self.create]
        batch_ms = [b.report.duration_ms for b in self.batches]
        memory = [r.max_memory_mb for r in [*self.create, *(b.report for b in self.batches)]]
        wru = write_units(max(self.item_bytes))
        per = self.calls_per_order()
        rows = [
            (
                "create_ms",
                measured.create_ms,
                default.create_ms,
                f"mean of {len(durations)} REPORT lines (p50 {quantile(durations, 0.5):.1f}, p99 {quantile(durations, 0.99):.1f} ms)",
            ),
            ("process_fixed_ms", measured.process_fixed_ms, default.process_fixed_ms, self.fit.note),
            (
                "process_per_record_ms",
                measured.process_per_record_ms,
                default.process_per_record_ms,
                f"batches: p50 {quantile(batch_ms, 0.5):.1f} ms, mean {mean([b.records for b in self.batches]):.1f} records",
            ),
            (
                "item_bytes",
                measured.item_bytes,
                default.item_bytes,
                (
                    f"largest PROCESSED item by DynamoDB's size rules (mean {mean(self.item_bytes):.0f}; NEW item "
                    f"{max(self.new_item_bytes)}): {wru} write unit(s) a write"
                ),
            ),
            (
                "writes_per_order",
                measured.writes_per_order,
                default.writes_per_order,
                f"PutItem + UpdateItem per order ({self.calls_source})",
            ),
            (
                "notification_bytes",
                measured.notification_bytes,
                default.notification_bytes,
                "the SNS message as published: body + attributes",
            ),
            (
                "log_bytes_per_order",
                measured.log_bytes_per_order,
                default.log_bytes_per_order,
                f"{sum(self.log_events.values()) / self.orders:.1f} events an order, both log groups",
            ),
            (
                "api_calls_per_order",
                round(sum(per.values()), 3),
                None,
                f"{self.calls_source}: " + ", ".join(f"{k} {v:.2f}" for k, v in per.items()),
            ),
            (
                "lane_gap_ms",
                None if self.lane_gap_ms is None else round(self.lane_gap_ms, 1),
                None,
                (
                    "median time from a full batch's end to the next full batch's start: the mapping reading the stream and "
                    "handing the batch over (not in the AWS model; used in the check against the sandbox)"
                ),
            ),
            ("max_memory_mb", max(memory) if memory else None, None, f"of {default.memory_mb} MB configured (REPORT Max Memory Used)"),
            ("kms_requests_per_order", measured.kms_requests_per_order, default.kms_requests_per_order, KMS_NOTE),
        ]
        return [{"figure": name, "measured": value, "default": was, "how": how} for name, value, was, how in rows]


def _sandbox_cpu(control: Callable[[str], Any] | None) -> tuple[float | None, dict[int, float]]:
    """The sandbox process's CPU seconds so far and each function worker's (read from /proc: the
    sandbox runs on this machine)."""
    if control is None:
        return None, {}
    from pathlib import Path

    health = control("health")
    workers: dict[int, float] = {}
    for pid in control("workers").get("pids", []):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # a worker that ended meanwhile
            continue
        import os

        workers[int(pid)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return health.get("process", {}).get("cpu_s"), workers


def wait_notified(repository: Any, order_ids: Sequence[str], timeout_s: float) -> list[dict[str, Any]]:
    """The orders' items once every one is notified (or the timeout passed), newest asked first."""
    pending, items = list(order_ids), dict[str, dict[str, Any]]()
    deadline = time.monotonic() + timeout_s
    while pending and time.monotonic() < deadline:
        item = repository.get_item(pending[-1])
        if item and item.get("notifiedAt"):
            items[pending.pop()] = item
        else:
            time.sleep(0.1)
    for order_id in pending:
        item = repository.get_item(order_id)
        if item:
            items[order_id] = item
    return [items[i] for i in order_ids if i in items]


def measure(
    aws: Callable[[str], Any],
    outputs: Any,
    repository: Any,
    count: int = 200,
    *,
    rate_per_s: float = 0.0,
    clients: int = 4,
    seed: int = 60,
    control: Callable[[str], Any] | None = None,
    timeout_s: float = 120.0,
    log_wait_s: float = 30.0,
) -> Measurement:
    """Send ``count`` orders through CreateOrder (``rate_per_s`` 0: as fast as ``clients``
    callers are answered, so that batch sizes vary), wait until each is notified, and measure.
    ``control`` calls the sandbox's control API (None on AWS): its call tally and CPU."""
    from ..ops.orders import create_bulk

    if count < 10:
        raise ValueError(f"a sample needs at least 10 orders, got {count}")
    before_calls = (control("iam").get("calls", {}) if control else {}) or {}
    sandbox_cpu, workers = _sandbox_cpu(control)
    client_cpu = time.process_time()
    start_ms = int(time.time() * 1000) - 1000
    started = time.monotonic()
    sent = create_bulk(aws("lambda"), outputs.create_function, count, rate_per_s=rate_per_s, clients=clients, seed=seed)
    offered = sent.finished / sent.seconds if sent.seconds else 0.0
    items = wait_notified(repository, sent.order_ids, timeout_s)
    seconds = time.monotonic() - started
    sandbox_after, workers_after = _sandbox_cpu(control)
    client_cpu = time.process_time() - client_cpu
    after_calls = (control("iam").get("calls", {}) if control else {}) or {}
    notified = [item for item in items if item.get("notifiedAt")]
    if len(notified) < len(sent.order_ids) or not notified:
        raise RuntimeError(f"{len(notified)} of {len(sent.order_ids)} orders notified within {timeout_s:.0f} s: the sample is incomplete")
    end_ms = int(time.time() * 1000) + 1000

    logs = aws("logs")
    groups = {"CreateOrder": outputs.log_group("create"), "ProcessOrder": outputs.log_group("process")}
    deadline = time.monotonic() + log_wait_s
    while True:  # on AWS log events arrive seconds after the invocation
        events = {name: window_events(logs, group, start_ms, end_ms) for name, group in groups.items()}
        create_reports = reports(events["CreateOrder"])
        batches = process_batches(events["ProcessOrder"])
        covered = sum(b.records for b in batches)
        if (len(create_reports) >= sent.finished and covered >= len(notified)) or time.monotonic() > deadline:
            break
        time.sleep(2.0)
    notes = []
    if len(create_reports) < sent.finished or covered < len(notified):
        notes.append(
            f"logs incomplete after {log_wait_s:.0f} s: {len(create_reports)} CreateOrder REPORT lines, batches covering {covered} orders"
        )

    if control is not None:
        calls: Counter[str] = Counter()
        for function in (outputs.create_function, outputs.process_function):
            now, was = after_calls.get(function, {}), before_calls.get(function, {})
            for operation, total in now.items():
                if total - was.get(operation, 0):
                    calls[operation] += total - was.get(operation, 0)
        source = "counted by the sandbox (each request the functions sent)"
    else:
        calls = calls_from_logs(events["CreateOrder"], events["ProcessOrder"])
        source = "derived from the handlers' log lines (the calls the code makes for each line)"

    return Measurement(
        orders=len(notified),
        seconds=seconds,
        offered_per_s=offered,
        create=create_reports,
        batches=batches,
        fit=fit_process([(b.records, b.report.duration_ms) for b in batches]),
        item_bytes=[item_size(item) for item in notified],
        new_item_bytes=[item_size(new_item(item)) for item in notified],
        notification_bytes=[notification_bytes(item) for item in notified],
        log_bytes={name: log_bytes(found) for name, found in events.items()},
        log_events={name: len(found) for name, found in events.items()},
        calls=calls,
        calls_source=source,
        sandbox_cpu_s=None if sandbox_cpu is None or sandbox_after is None else sandbox_after - sandbox_cpu,
        workers_cpu_s=sum(cpu - workers.get(pid, 0.0) for pid, cpu in workers_after.items()) if control else None,
        client_cpu_s=client_cpu if control else None,
        notes=notes,
    )

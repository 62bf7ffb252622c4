"""DynamoDB stream event source mappings, run as AWS documents them: one ``ShardPoller`` per
mapping and shard, processing records in order.

* It reads the shard from the mapping's starting position, drops records that do not pass
  ``FilterCriteria`` (``filtering``: they never reach the function) and batches up to
  ``BatchSize`` records, waiting up to ``MaximumBatchingWindowInSeconds`` for a batch to fill
  (a full batch goes at once). The iterator moves past what was read only once every record
  has been evaluated: if the filters cannot be, the records are read again at the next poll.
* ``ParallelizationFactor`` N runs up to N batches of the shard at once, each in a *lane*
  (``lanes``): all the records of one item (its partition and sort key) travel in the same
  lane, and a lane runs one invocation at a time, so an item's records are processed in
  sequence order and never two at once, as Lambda promises. With N = 1 there is one lane and
  the poller runs its invocations on its own thread, one after another, as before.
* It invokes the function synchronously with ``{"Records": [...]}`` in Lambda's event shape
  (``eventSourceARN`` and ``awsRegion`` added). Concurrent invocations share the function's
  capacity (``invocation``): at most its workers run at once, the others wait for one, and past
  its reserved concurrency a lane is throttled.
* What a result means (checkpoint, partial failure, retry, bisection, retries spent) is
  decided in ``retries``, per lane: a failing batch is retried, bisected or discarded in its
  own lane, and holds back only the records behind it in that lane; the other lanes go on.
* A throttled invocation (the function at its concurrency limit) is not a function error:
  the batch is retried with a growing backoff and no attempt is counted, until it succeeds
  or its records pass their maximum age.
* Records older than ``MaximumRecordAgeInSeconds`` are discarded.
* Discarded records produce the documented on-failure record (``destinations``), sent to the
  ``DestinationConfig.OnFailure`` queue or topic, and their lane moves on.
* The checkpoint (where a restarted poller resumes) is the last record before which every
  record read is finished (processed, filtered out or discarded): with several lanes it waits
  for the slowest, never passing a record still buffered, running or due for a retry. Records
  other lanes finished beyond it are delivered again after a restart (at least once, as on AWS).

Not emulated: how AWS spreads items over its concurrent batches (undocumented; here a stable
hash of the keys, so a lane can hold several items and one lane's failing batch also holds back
the other items that share it), and the 6 MB payload limit of a batch.
https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from orders_lib.sandbox.lambda_.event_source_mapping.config import MappingConfig
from orders_lib.sandbox.lambda_.event_source_mapping.destinations import on_failure_record
from orders_lib.sandbox.lambda_.event_source_mapping.filtering import passes
from orders_lib.sandbox.lambda_.event_source_mapping.lanes import lane_of
from orders_lib.sandbox.lambda_.event_source_mapping.retries import InvokeResult, after_failure, failure_index, sequence

LOG = logging.getLogger(__name__)
POLL_INTERVAL_S = 0.25  # Lambda polls a stream shard four times a second
READ_LIMIT = 1000
READ_AHEAD_LIMIT = 10_000  # records read but not yet in a batch, over all lanes: no read past it
RETRY_BACKOFF_S = 0.02
THROTTLE_BACKOFF_S = (0.05, 1.0)  # first and longest wait after a throttled invocation


class ReadRefused(Exception):
    """The function's execution role may not read the stream (IAM): nothing is read, nothing is
    lost, and the poller tries again at its next poll, as Lambda does once the role is fixed."""


class StreamReader(Protocol):
    def shard_ids(self, stream_arn: str) -> list[str]: ...
    def iterator(self, stream_arn: str, shard_id: str, position: str) -> str: ...
    def read(self, iterator: str, limit: int) -> tuple[list[dict[str, Any]], str | None]: ...


Invoker = Callable[[str, dict[str, Any]], InvokeResult]
FailureSink = Callable[[str, dict[str, Any]], None]


@dataclass
class _Work:
    records: list[dict[str, Any]]
    attempts: int = 0  # failed invocations so far for these records


@dataclass
class _Lane:
    """One of the shard's concurrent batches: its records in sequence order, one invocation at a time."""

    buffer: deque[dict[str, Any]] = field(default_factory=deque)
    work: deque[_Work] = field(default_factory=deque)  # the batch to run next, then its retries' halves
    first_buffered_at: float | None = None
    throttled_in_row: int = 0
    busy: bool = False  # an invocation of this lane (or its backoff) is under way


@dataclass
class PollerStats:
    invocations: int = 0
    records_delivered: int = 0
    records_filtered: int = 0
    batches_succeeded: int = 0
    partial_failures: int = 0
    function_errors: int = 0
    on_failure_records: int = 0
    throttles: int = 0
    read_refusals: int = 0  # polls the execution role was not allowed to make
    filter_errors: int = 0  # polls whose records the filters could not be evaluated on (read again later)
    destination_failures: int = 0  # on-failure records that could not be sent (lost, as on AWS)
    concurrent_batches: int = 0  # batches of this shard in flight now
    peak_concurrent_batches: int = 0
    last_result: str = "No records processed"


class ShardPoller:
    def __init__(
        self,
        config: MappingConfig,
        shard_id: str,
        reader: StreamReader,
        invoke: Invoker,
        send_failure: FailureSink,
        *,
        region: str = "us-east-1",
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        observe_age: Callable[[float], None] | None = None,
        resume: dict[str, str | None] | None = None,
    ):
        """``resume`` is a ``resume_point()`` of the same mapping and shard saved before a stop or
        a crash: the poller carries on after its checkpoint, or where it had started reading."""
        self.config, self.shard_id, self.region = config, shard_id, region
        self._reader, self._invoke, self._send_failure = reader, invoke, send_failure
        self._clock, self._sleep = clock, sleep
        self._observe_age = observe_age  # IteratorAge (ms) of each batch as it is handed to the function
        self._iterator: str | None = None
        self._lanes = [_Lane() for _ in range(max(1, config.parallelization_factor))]
        # Every record read since the start, in sequence order, until the checkpoint passes it:
        # sequence number -> finished. Filtered records are finished when read.
        self._ledger: OrderedDict[str, bool] = OrderedDict()
        self._unfinished = 0
        self._lock = threading.Lock()  # lanes, ledger, checkpoint and stats; never held while calling out
        self._pool: ThreadPoolExecutor | None = None  # the lanes' invocations when there are several
        self.checkpoint: str | None = (resume or {}).get("checkpoint")  # every record up to it is finished
        self._started_at: str | None = (resume or {}).get("started_at")  # the first iterator, while nothing is checkpointed
        self.stats = PollerStats()
        self.wake = threading.Event()

    def resume_point(self) -> dict[str, str | None]:
        """Where a restarted poller carries on: after the checkpoint, or (nothing dealt with yet)
        at the iterator it started from. Records read but not dealt with are read again, and a
        batch that was running is retried, as after an outage on AWS."""
        with self._lock:
            return {"checkpoint": self.checkpoint, "started_at": self._started_at}

    @property
    def pending(self) -> int:
        """Records read but not yet dealt with (buffered, in a running batch or due for a retry)."""
        return self._unfinished

    # -- the ledger ----------------------------------------------------------------
    def _finish(self, records: list[dict[str, Any]]) -> None:
        """Mark records dealt with and move the checkpoint over every finished record at the
        front (lock held)."""
        for record in records:
            if self._ledger.get(sequence(record)) is False:
                self._ledger[sequence(record)] = True
                self._unfinished -= 1
        while self._ledger:
            first, finished = next(iter(self._ledger.items()))
            if not finished:
                break
            self._ledger.popitem(last=False)
            self.checkpoint = first

    # -- reading -----------------------------------------------------------------
    def _room(self) -> bool:
        """Read while some lane could take more and the read-ahead is bounded: a lane held back
        by a failing batch does not stop the others from being fed."""
        with self._lock:
            sizes = [len(lane.buffer) for lane in self._lanes]
        return min(sizes) < self.config.batch_size and sum(sizes) < READ_AHEAD_LIMIT

    def _fill(self) -> bool:
        try:
            return self._read()
        except ReadRefused as refused:
            with self._lock:
                self.stats.read_refusals += 1
                self.stats.last_result = f"PROBLEM: Lambda could not read the stream: {refused}"
            return False

    def _read(self) -> bool:
        if self._iterator is None:
            if self.checkpoint is not None:
                position = f"AFTER_SEQUENCE_NUMBER:{self.checkpoint}"
                self._iterator = self._reader.iterator(self.config.stream_arn, self.shard_id, position)
            elif self._started_at is not None:
                self._iterator = self._started_at
            else:
                self._iterator = self._reader.iterator(self.config.stream_arn, self.shard_id, self.config.starting_position)
            self._started_at = self._started_at or self._iterator
        if not self._iterator:
            return False
        records, following = self._reader.read(self._iterator, READ_LIMIT)
        event_records = [{**record, "eventSourceARN": self.config.stream_arn, "awsRegion": self.region} for record in records]
        try:
            kept = [passes(self.config.filters, record) for record in event_records]
        except Exception as error:  # noqa: BLE001 - whatever the cause, the records stay in the stream
            return self._filter_failed(error)
        self._iterator = following  # only now: every record read has been evaluated
        with self._lock:
            filtered = []
            for record, keep in zip(event_records, kept, strict=True):
                self._ledger[sequence(record)] = False
                self._unfinished += 1
                if keep:
                    lane = self._lanes[lane_of(record, len(self._lanes))]
                    if not lane.buffer:
                        lane.first_buffered_at = self._clock()
                    lane.buffer.append(record)
                else:
                    self.stats.records_filtered += 1
                    filtered.append(record)
            self._finish(filtered)
        return bool(records)

    def _filter_failed(self, error: Exception) -> bool:
        """Records the filters could not be evaluated on are neither delivered nor dropped: the
        iterator stays before them and the next poll reads them again, as a stream keeps records
        until a poller has dealt with them."""
        with self._lock:
            self.stats.filter_errors += 1
            problem = f"PROBLEM: FilterCriteria could not be evaluated: {error!r}"
            if self.stats.last_result != problem:  # once per spell, not at every poll
                LOG.error("mapping %s keeps its records in the stream: %s", self.config.uuid, problem)
            self.stats.last_result = problem
        return False

    def _next_work(self, lane: _Lane) -> _Work | None:
        """The lane's batch to run now, if any (lock held)."""
        if lane.work:
            return lane.work[0]
        if not lane.buffer:
            return None
        window_open = self.config.batching_window_s > 0 and len(lane.buffer) < self.config.batch_size
        if window_open and self._clock() - (lane.first_buffered_at or 0) < self.config.batching_window_s:
            return None
        batch = [lane.buffer.popleft() for _ in range(min(self.config.batch_size, len(lane.buffer)))]
        lane.first_buffered_at = self._clock() if lane.buffer else None
        lane.work.append(_Work(batch))
        return lane.work[0]

    # -- one step ----------------------------------------------------------------
    def step(self) -> bool:
        """Read what is new, then start each idle lane's next batch. True if anything happened.

        With one lane the invocation runs here, so a step runs at most one; with several, each
        runs on a thread of the poller's pool and this returns at once."""
        read = self._fill() if self._room() else False
        started = []
        with self._lock:
            for lane in self._lanes:
                work = None if lane.busy else self._next_work(lane)
                if work is not None:
                    lane.busy = True
                    self.stats.concurrent_batches += 1
                    self.stats.peak_concurrent_batches = max(self.stats.peak_concurrent_batches, self.stats.concurrent_batches)
                    started.append((lane, work))
        for lane, work in started:
            if len(self._lanes) == 1:
                self._serve(lane, work)
            else:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(len(self._lanes), thread_name_prefix=f"esm-{self.config.uuid[:8]}-lane")
                self._pool.submit(self._serve, lane, work)
        return read or bool(started)

    def _serve(self, lane: _Lane, work: _Work) -> None:
        try:
            work.records = self._drop_expired(work.records)
            if work.records:
                self._run(lane, work)
            else:
                with self._lock:
                    lane.work.popleft()
        except Exception:
            if len(self._lanes) == 1:
                raise  # run() logs it and waits a poll, as for any failed step
            # On a lane's thread: logged here, and the lane waits a poll before its work is tried again.
            LOG.exception("poller for mapping %s failed a batch", self.config.uuid)
            self._sleep(POLL_INTERVAL_S)
        finally:
            with self._lock:
                self.stats.concurrent_batches -= 1
                lane.busy = False
            self.wake.set()

    def _drop_expired(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.config.max_record_age_s < 0:
            return records
        oldest_allowed = self._clock() - self.config.max_record_age_s
        expired = [r for r in records if r["dynamodb"].get("ApproximateCreationDateTime", oldest_allowed) < oldest_allowed]
        if expired:
            self._discard(expired, "RecordAgeExceeded", None, attempts=0)
        return [r for r in records if r not in expired]

    def _run(self, lane: _Lane, work: _Work) -> None:
        if self._observe_age:
            created = work.records[-1]["dynamodb"].get("ApproximateCreationDateTime")
            if isinstance(created, (int, float)):
                self._observe_age((self._clock() - created) * 1000)
        result = self._invoke(self.config.function_arn, {"Records": work.records})
        if result.throttled:
            with self._lock:
                self.stats.throttles += 1
                self.stats.last_result = "PROBLEM: Function call throttled"
                first, longest = THROTTLE_BACKOFF_S
                backoff = min(longest, first * 2**lane.throttled_in_row)
                lane.throttled_in_row += 1
            self._sleep(backoff)
            return
        with self._lock:
            lane.throttled_in_row = 0
            self.stats.invocations += 1
            self.stats.records_delivered += len(work.records)
            failed_at = failure_index(work.records, result, self.config.report_batch_item_failures)
            if failed_at is None:
                lane.work.popleft()
                self._finish(work.records)
                self.stats.batches_succeeded += 1
                self.stats.last_result = "OK"
                return
            work.attempts += 1
            if failed_at > 0:
                self.stats.partial_failures += 1
            else:
                self.stats.function_errors += bool(result.function_error)
                self.stats.partial_failures += not result.function_error
            self.stats.last_result = "PROBLEM: function error" if result.function_error else "PROBLEM: batch item failures"
            outcome = after_failure(
                work.records,
                failed_at,
                work.attempts,
                function_error=bool(result.function_error),
                max_retry_attempts=self.config.max_retry_attempts,
                bisect_on_error=self.config.bisect_on_error,
            )
            self._finish(work.records[: outcome.done])  # partial success: the records before the first failed one
            lane.work.popleft()
            for batch in reversed(outcome.retry):
                lane.work.appendleft(_Work(batch, work.attempts))
        if outcome.discarded:
            self._discard(outcome.discarded, "RetryAttemptsExhausted", result, attempts=work.attempts)
            return
        self._sleep(RETRY_BACKOFF_S * work.attempts)

    def _discard(self, records: list[dict[str, Any]], condition: str, result: InvokeResult | None, attempts: int) -> None:
        with self._lock:
            self._finish(records)
            self.stats.on_failure_records += 1
        LOG.warning("mapping %s discards %d record(s): %s", self.config.uuid, len(records), condition)
        if not self.config.on_failure_arn:
            return
        try:
            self._send_failure(
                self.config.on_failure_arn,
                on_failure_record(
                    records,
                    condition,
                    result,
                    attempts,
                    function_arn=self.config.function_arn,
                    stream_arn=self.config.stream_arn,
                    shard_id=self.shard_id,
                    now=self._clock(),
                ),
            )
        except Exception as error:  # noqa: BLE001 - Lambda counts DestinationDeliveryFailures and moves on
            with self._lock:
                self.stats.destination_failures += 1
            LOG.error(
                "mapping %s could not send the on-failure record to %s; %d record(s) lost: %s",
                self.config.uuid,
                self.config.on_failure_arn,
                len(records),
                error,
            )

    # -- the loop ------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Poll until ``stop``; then wait for the lanes' running invocations, so the resume point
        taken after a stop is final."""
        try:
            while not stop.is_set():
                self.wake.clear()  # before the step: a wake during it is not lost
                try:
                    busy = self.step()
                except Exception:  # keep polling as Lambda does; the cause is logged
                    LOG.exception("poller for mapping %s failed a step", self.config.uuid)
                    busy = False
                if not busy:
                    waiting = self.config.batching_window_s if any(lane.buffer for lane in self._lanes) else POLL_INTERVAL_S
                    self.wake.wait(min(POLL_INTERVAL_S, waiting) if waiting else POLL_INTERVAL_S)
        finally:
            self.close()

    def close(self) -> None:
        """Wait for the lanes' running invocations and release their threads."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

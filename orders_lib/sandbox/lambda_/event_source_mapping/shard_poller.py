"""DynamoDB stream event source mappings, run as AWS documents them: one ``ShardPoller`` per
mapping and shard, processing records in order.

* It reads the shard from the mapping's starting position, drops records that do not pass
  ``FilterCriteria`` (``filtering``: they never reach the function) and batches up to
  ``BatchSize`` records, waiting up to ``MaximumBatchingWindowInSeconds``. The iterator moves
  past what was read only once every record has been evaluated: if the filters cannot be,
  the records are read again at the next poll.
* It invokes the function synchronously with ``{"Records": [...]}`` in Lambda's event shape
  (``eventSourceARN`` and ``awsRegion`` added).
* What a result means (checkpoint, partial failure, retry, bisection, retries spent) is
  decided in ``retries``.
* A throttled invocation (the function at its concurrency limit) is not a function error:
  the batch is retried with a growing backoff and no attempt is counted, until it succeeds
  or its records pass their maximum age.
* Records older than ``MaximumRecordAgeInSeconds`` are discarded.
* Discarded records produce the documented on-failure record (``destinations``), sent to the
  ``DestinationConfig.OnFailure`` queue or topic, and the shard moves on.
https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from orders_lib.sandbox.lambda_.event_source_mapping.config import MappingConfig
from orders_lib.sandbox.lambda_.event_source_mapping.destinations import on_failure_record
from orders_lib.sandbox.lambda_.event_source_mapping.filtering import passes
from orders_lib.sandbox.lambda_.event_source_mapping.retries import InvokeResult, after_failure, failure_index, sequence

LOG = logging.getLogger(__name__)
POLL_INTERVAL_S = 0.25  # Lambda polls a stream shard four times a second
READ_LIMIT = 1000
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
        self._buffer: deque[dict[str, Any]] = deque()
        self._work: deque[_Work] = deque()
        self._first_buffered_at: float | None = None
        self._throttled_in_row = 0
        self.checkpoint: str | None = (resume or {}).get("checkpoint")  # last sequence number fully dealt with
        self._started_at: str | None = (resume or {}).get("started_at")  # the first iterator, while nothing is checkpointed
        self.stats = PollerStats()
        self.wake = threading.Event()

    def resume_point(self) -> dict[str, str | None]:
        """Where a restarted poller carries on: after the checkpoint, or (nothing dealt with yet)
        at the iterator it started from. Records read but not dealt with are read again, and a
        batch that was running is retried, as after an outage on AWS."""
        return {"checkpoint": self.checkpoint, "started_at": self._started_at}

    @property
    def pending(self) -> int:
        """Records read but not yet dealt with (buffered or in a batch being retried)."""
        return len(self._buffer) + sum(len(w.records) for w in self._work)

    # -- reading -----------------------------------------------------------------
    def _fill(self) -> bool:
        try:
            return self._read()
        except ReadRefused as refused:
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
        for record, keep in zip(event_records, kept, strict=True):
            if keep:
                if not self._buffer:
                    self._first_buffered_at = self._clock()
                self._buffer.append(record)
            else:
                self.stats.records_filtered += 1
                self.checkpoint = sequence(record) if not self._buffer and not self._work else self.checkpoint
        return bool(records)

    def _filter_failed(self, error: Exception) -> bool:
        """Records the filters could not be evaluated on are neither delivered nor dropped: the
        iterator stays before them and the next poll reads them again, as a stream keeps records
        until a poller has dealt with them."""
        self.stats.filter_errors += 1
        problem = f"PROBLEM: FilterCriteria could not be evaluated: {error!r}"
        if self.stats.last_result != problem:  # once per spell, not at every poll
            LOG.error("mapping %s keeps its records in the stream: %s", self.config.uuid, problem)
        self.stats.last_result = problem
        return False

    def _next_work(self) -> _Work | None:
        if self._work:
            return self._work[0]
        if not self._buffer:
            return None
        window_open = self.config.batching_window_s > 0 and len(self._buffer) < self.config.batch_size
        if window_open and self._clock() - (self._first_buffered_at or 0) < self.config.batching_window_s:
            return None
        batch = [self._buffer.popleft() for _ in range(min(self.config.batch_size, len(self._buffer)))]
        self._first_buffered_at = self._clock() if self._buffer else None
        self._work.append(_Work(batch))
        return self._work[0]

    # -- one step ----------------------------------------------------------------
    def step(self) -> bool:
        """Read what is new, then run at most one invocation. True if anything happened."""
        read = self._fill() if len(self._buffer) < self.config.batch_size else False
        work = self._next_work()
        if work is None:
            return read
        work.records = self._drop_expired(work.records)
        if not work.records:
            self._work.popleft()
            return True
        self._run(work)
        return True

    def _drop_expired(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.config.max_record_age_s < 0:
            return records
        oldest_allowed = self._clock() - self.config.max_record_age_s
        expired = [r for r in records if r["dynamodb"].get("ApproximateCreationDateTime", oldest_allowed) < oldest_allowed]
        if expired:
            self._discard(expired, "RecordAgeExceeded", None, attempts=0)
        return [r for r in records if r not in expired]

    def _run(self, work: _Work) -> None:
        if self._observe_age:
            created = work.records[-1]["dynamodb"].get("ApproximateCreationDateTime")
            if isinstance(created, (int, float)):
                self._observe_age((self._clock() - created) * 1000)
        result = self._invoke(self.config.function_arn, {"Records": work.records})
        if result.throttled:
            self.stats.throttles += 1
            self.stats.last_result = "PROBLEM: Function call throttled"
            first, longest = THROTTLE_BACKOFF_S
            self._sleep(min(longest, first * 2**self._throttled_in_row))
            self._throttled_in_row += 1
            return
        self._throttled_in_row = 0
        self.stats.invocations += 1
        self.stats.records_delivered += len(work.records)
        failed_at = failure_index(work.records, result, self.config.report_batch_item_failures)
        if failed_at is None:
            self._work.popleft()
            self.checkpoint = sequence(work.records[-1])
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
        if outcome.done:  # partial success: checkpoint before the first failed record
            self.checkpoint = sequence(work.records[outcome.done - 1])
        self._work.popleft()
        if outcome.discarded:
            self._discard(outcome.discarded, "RetryAttemptsExhausted", result, attempts=work.attempts)
            return
        for batch in reversed(outcome.retry):
            self._work.appendleft(_Work(batch, work.attempts))
        self._sleep(RETRY_BACKOFF_S * work.attempts)

    def _discard(self, records: list[dict[str, Any]], condition: str, result: InvokeResult | None, attempts: int) -> None:
        self.checkpoint = sequence(records[-1])
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
        while not stop.is_set():
            try:
                busy = self.step()
            except Exception:  # keep polling as Lambda does; the cause is logged
                LOG.exception("poller for mapping %s failed a step", self.config.uuid)
                busy = False
            if not busy:
                waiting = self.config.batching_window_s if self._buffer else POLL_INTERVAL_S
                self.wake.wait(min(POLL_INTERVAL_S, waiting) if waiting else POLL_INTERVAL_S)
                self.wake.clear()

"""What happens to a batch after its invocation, as Lambda decides it for a stream mapping.

* Success checkpoints past the batch.
* With ``ReportBatchItemFailures``, a response naming failed sequence numbers checkpoints
  before the lowest one and retries from there; an empty or null ``itemIdentifier``, or one
  not in the batch, fails the whole batch.
* A function error (exception, timeout, crash) fails the whole batch: it is retried, split in
  two first when ``BisectBatchOnFunctionError`` is on, until ``MaximumRetryAttempts`` retries
  are spent (halves inherit the count); then the records are discarded to the on-failure
  destination.
* A throttle is not a failure: no attempt is counted (the poller backs off).
https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html
https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]


@dataclass
class InvokeResult:
    request_id: str
    payload: Any
    function_error: str | None = None
    throttled: str | None = None  # the throttle reason: the function never ran


def sequence(record: Record) -> str:
    return record["dynamodb"]["SequenceNumber"]


def failure_index(records: list[Record], result: InvokeResult, report_batch_item_failures: bool) -> int | None:
    """None on full success, else the index of the first record to retry."""
    if result.function_error:
        return 0
    if not report_batch_item_failures or not isinstance(result.payload, dict):
        return None
    failures = result.payload.get("batchItemFailures")
    if not failures:
        return None
    positions = {sequence(r): i for i, r in enumerate(records)}
    indexes = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in positions:
            return 0  # malformed response: the whole batch failed
        indexes.append(positions[identifier])
    return min(indexes)


@dataclass(frozen=True)
class AfterFailure:
    """A failed invocation's consequences: ``done`` records (before the first failed one) are
    checkpointed; the rest is retried as the ``retry`` batches, in order, or, when the retries
    are spent, ``discarded``."""

    done: int
    retry: list[list[Record]] = field(default_factory=list)
    discarded: list[Record] = field(default_factory=list)


def after_failure(
    records: list[Record], failed_at: int, attempts: int, *, function_error: bool, max_retry_attempts: int, bisect_on_error: bool
) -> AfterFailure:
    """``attempts`` counts this failure; ``max_retry_attempts`` -1 retries until the records expire."""
    rest = records[failed_at:]
    if 0 <= max_retry_attempts < attempts:
        return AfterFailure(failed_at, discarded=rest)
    if function_error and bisect_on_error and len(rest) > 1:
        middle = len(rest) // 2
        return AfterFailure(failed_at, retry=[rest[:middle], rest[middle:]])
    return AfterFailure(failed_at, retry=[rest])

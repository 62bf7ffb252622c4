"""What Lambda does with a stream batch after its invocation: a table of cases, no poller."""

from __future__ import annotations

import pytest

from orders_lib.sandbox.lambda_.event_source_mapping.retries import InvokeResult, after_failure, failure_index


def records(n: int) -> list[dict]:
    return [{"dynamodb": {"SequenceNumber": str(100 + i)}} for i in range(n)]


BATCH = records(4)


@pytest.mark.parametrize(
    ("payload", "error", "report", "expected"),
    [
        (None, None, True, None),
        ({"batchItemFailures": []}, None, True, None),
        ({"batchItemFailures": [{"itemIdentifier": "102"}, {"itemIdentifier": "103"}]}, None, True, 2),
        ({"batchItemFailures": [{"itemIdentifier": "102"}]}, None, False, None),  # not reported: a success
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, None, True, 0),  # malformed: the whole batch
        ({"batchItemFailures": [{"itemIdentifier": "999"}]}, None, True, 0),  # not in the batch
        ({"batchItemFailures": [None]}, None, True, 0),
        (None, "Unhandled", True, 0),
    ],
)
def test_the_first_record_to_retry(payload, error, report, expected):
    assert failure_index(BATCH, InvokeResult("r", payload, error), report) == expected


def test_a_partial_failure_checkpoints_what_came_before_and_retries_the_rest_whole():
    outcome = after_failure(BATCH, 2, 1, function_error=False, max_retry_attempts=3, bisect_on_error=True)
    assert outcome.done == 2 and outcome.retry == [BATCH[2:]] and outcome.discarded == []


def test_a_function_error_bisects_when_asked_and_never_below_one_record():
    halves = after_failure(BATCH, 0, 1, function_error=True, max_retry_attempts=3, bisect_on_error=True)
    assert halves.retry == [BATCH[:2], BATCH[2:]]
    single = after_failure(BATCH[:1], 0, 1, function_error=True, max_retry_attempts=3, bisect_on_error=True)
    assert single.retry == [BATCH[:1]]
    whole = after_failure(BATCH, 0, 1, function_error=True, max_retry_attempts=3, bisect_on_error=False)
    assert whole.retry == [BATCH]


def test_retries_spent_discard_the_records_still_failing():
    assert after_failure(BATCH, 1, 4, function_error=False, max_retry_attempts=3, bisect_on_error=True).discarded == BATCH[1:]
    assert after_failure(BATCH, 0, 3, function_error=True, max_retry_attempts=3, bisect_on_error=True).discarded == []
    assert after_failure(BATCH, 0, 1, function_error=True, max_retry_attempts=0, bisect_on_error=True).discarded == BATCH
    assert after_failure(BATCH, 0, 10_000, function_error=True, max_retry_attempts=-1, bisect_on_error=False).retry == [BATCH]

"""The order trace's AWS path against handmade responses: REPORT lines, the log queries and how
lines group into invocations, the stream read stopping early, the verdict rules, order and gaps."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from orders_lib.ops.dlq import FailedBatch
from orders_lib.ops.trace import Trace
from orders_lib.ops.trace_logs import Invocation, invocations, order_pattern, parse_report
from orders_lib.ops.trace_sources import StreamRead, StreamRecord, stream_records
from orders_lib.ops.trace_timeline import Evidence, Step, human, timeline
from orders_lib.sandbox.logs.filter_patterns import compile_pattern

from .log_lines import CREATED, ORDER_ID, OTHER_ORDER, REPORT, REQUEST_ID, START

T0 = datetime(2026, 11, 30, 7, 0, 0, tzinfo=UTC)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


# -- REPORT lines ---------------------------------------------------------------------------
def test_report_lines_are_parsed_field_by_field():
    report = parse_report(REPORT)
    assert report is not None and report.request_id == REQUEST_ID
    assert (report.duration_ms, report.billed_ms, report.memory_mb, report.max_memory_mb, report.init_ms) == (12.34, 13, 256, 80, None)
    cold = parse_report(REPORT.rstrip("\t") + "\tInit Duration: 265.72 ms\t\n")
    assert cold is not None and cold.init_ms == 265.72


@pytest.mark.parametrize("line", [START, CREATED, "REPORT without a request id", f"REPORT RequestId: {REQUEST_ID}\tno figures"])
def test_other_lines_are_no_report(line):
    assert parse_report(line) is None


# -- the log queries ------------------------------------------------------------------------------
def test_the_order_pattern_finds_order_lines_and_batch_lines_only():
    pattern = compile_pattern(order_pattern(ORDER_ID))
    batch = json.dumps({"message": "batch received", "orderIds": ["x", ORDER_ID, None], "function_request_id": "r"})
    other_batch = json.dumps({"message": "batch received", "orderIds": ["x"], "function_request_id": "r"})
    assert [pattern.matches(m) for m in (CREATED, batch, OTHER_ORDER, other_batch, START, REPORT)] == [True, True] + [False] * 4


class FakeLogs:
    """FilterLogEvents answered from a list of events, a page of two at a time, recording the calls."""

    def __init__(self, events):
        self.events, self.calls = events, []

    def filter_log_events(self, logGroupName, filterPattern, startTime, endTime, nextToken=None):
        self.calls.append(filterPattern)
        pattern = compile_pattern(filterPattern)
        hits = [e for e in self.events if startTime <= e["timestamp"] <= endTime and pattern.matches(e["message"])]
        start = int(nextToken or 0)
        page = {"events": hits[start : start + 2]}
        if start + 2 < len(hits):
            page["nextToken"] = str(start + 2)
        return page


def invocation_events(request_id, at, order_id, duration_ms=12.34, status=201):
    line = {"message": "create-order answered", "function_request_id": request_id, "orderId": order_id, "status_code": status}
    return [
        {"timestamp": ms(at), "message": f"START RequestId: {request_id} Version: $LATEST", "eventId": f"{request_id}-1"},
        {"timestamp": ms(at) + 10, "message": json.dumps(line), "eventId": f"{request_id}-2"},
        {"timestamp": ms(at) + 12, "message": f"END RequestId: {request_id}", "eventId": f"{request_id}-3"},
        {
            "timestamp": ms(at) + 12,
            "message": f"REPORT RequestId: {request_id}\tDuration: {duration_ms} ms\tBilled Duration: 13 ms\tMemory Size: 256 MB\t"
            "Max Memory Used: 80 MB\t",
            "eventId": f"{request_id}-4",
        },
    ]


def test_invocations_group_lines_by_request_id_and_find_their_report():
    events = invocation_events("req-b", T0 + timedelta(seconds=5), ORDER_ID, status=200)
    events += invocation_events("req-a", T0, ORDER_ID) + invocation_events("req-c", T0, "another-order")
    logs = FakeLogs(sorted(events, key=lambda e: e["timestamp"]))
    found = invocations(logs, "CreateOrder", "/aws/lambda/create", ORDER_ID, ms(T0) - 1000, ms(T0) + 60_000)
    assert [i.request_id for i in found] == ["req-a", "req-b"]  # oldest first, the other order's left out
    assert [i.line("create-order answered")["status_code"] for i in found] == [201, 200]
    assert all(i.report is not None and i.report.duration_ms == 12.34 and len(i.events) == 4 for i in found)
    assert found[0].started_ms == ms(T0)
    assert logs.calls == [order_pattern(ORDER_ID), '"req-a"', '"req-a"', '"req-b"', '"req-b"']  # pages of two followed


# -- the stream -------------------------------------------------------------------------------------
class FakeStreams:
    """One open shard of ``records`` (plain images), 2 records a page, counting GetRecords calls."""

    class exceptions:
        class TrimmedDataAccessException(Exception):
            pass

    def __init__(self, records):
        self.records, self.reads, self.iterators = records, 0, []

    def describe_stream(self, StreamArn):
        return {"StreamDescription": {"Shards": [{"ShardId": "shard-1", "SequenceNumberRange": {"StartingSequenceNumber": "100"}}]}}

    def get_shard_iterator(self, StreamArn, ShardId, ShardIteratorType, SequenceNumber=None):
        self.iterators.append((ShardIteratorType, SequenceNumber))
        start = (
            0
            if SequenceNumber is None
            else next(i for i, r in enumerate(self.records) if r["dynamodb"]["SequenceNumber"] == SequenceNumber)
        )
        return {"ShardIterator": str(start)}

    def get_records(self, ShardIterator, Limit):
        self.reads += 1
        start = int(ShardIterator)
        return {"Records": self.records[start : start + 2], "NextShardIterator": str(start + 2)}


def stream_record(sequence, name, key, **image):
    data = {"SequenceNumber": str(sequence), "Keys": {"orderId": {"S": key}}, "ApproximateCreationDateTime": T0.timestamp()}
    if image:
        data["NewImage"] = {k: {"S": v} for k, v in {"orderId": key, **image}.items()}
    return {"eventName": name, "dynamodb": data}


def test_the_stream_read_stops_at_the_record_that_made_the_item_what_it_is():
    item = {"orderId": "o-1", "status": "PROCESSED", "createdAt": "c", "processedAt": "p", "notifiedAt": "n"}
    noise = [stream_record(100 + n, "INSERT", f"x-{n}", status="NEW") for n in range(6)]
    records = [
        *noise[:3],
        stream_record(103, "INSERT", "o-1", status="NEW", createdAt="c"),
        *noise[3:],
        stream_record(110, "MODIFY", "o-1", status="PROCESSED", createdAt="c", processedAt="p", notifiedAt="n"),
        *[stream_record(200 + n, "INSERT", f"y-{n}", status="NEW") for n in range(50)],
    ]
    streams = FakeStreams(records)
    read = stream_records(streams, "arn", "o-1", item)
    assert [r.event_name for r in read.records] == ["INSERT", "MODIFY"] and read.complete
    assert streams.reads == 4 and streams.iterators == [("TRIM_HORIZON", None)]  # not the 50 records after
    hinted = FakeStreams(records)
    again = stream_records(hinted, "arn", "o-1", item, hint="103")
    assert [r.sequence for r in again.records] == ["103", "110"] and hinted.iterators == [("AT_SEQUENCE_NUMBER", "103")]
    assert hinted.reads == 3


# -- the verdict, order and gaps -----------------------------------------------------------------------
def item(status="PROCESSED", took_ms=412):
    done = {"processedAt": iso(T0 + timedelta(milliseconds=300)), "notifiedAt": iso(T0 + timedelta(milliseconds=took_ms))}
    return {"orderId": ORDER_ID, "status": status, "createdAt": iso(T0), "expiresAt": Decimal(int(T0.timestamp()) + 86400)} | (
        done if status == "PROCESSED" else {}
    )


def process_invocation(request_id, at, size, failed=False, done=True, sequence="103", duration_ms=1.5, redrive=None):
    lines = [{"message": "batch received", "batch_size": size, "orderIds": [ORDER_ID], "sequence_numbers": [sequence]}]
    if redrive:
        lines = [{**line, "redrive": redrive} for line in lines]
    if failed:
        lines.append({"message": "record is not a valid order", "level": "ERROR", "orderId": ORDER_ID, "problems": ["items missing"]})
    if done:
        lines.append({"message": "batch done", "failed_sequence_numbers": [sequence] if failed else []})
    events = [{"timestamp": ms(at), "message": json.dumps({**line, "function_request_id": request_id})} for line in lines]
    return Invocation("ProcessOrder", request_id, events, parse_report(f"REPORT RequestId: {request_id}\tDuration: {duration_ms} ms"))


def test_a_notified_order_reads_oldest_first_with_gaps():
    evidence = Evidence(ORDER_ID, T0 + timedelta(minutes=5), item=item())
    evidence.processes = [process_invocation("p-1", T0 + timedelta(milliseconds=250), 1)]
    steps, verdict = timeline(evidence)
    assert verdict == "notified in 412 ms"
    assert [s.source for s in steps] == ["table", "ProcessOrder", "table", "table"]
    assert steps[0].details["ttl"] == "2026-12-01T07:00:00+00:00"  # expiresAt as DynamoDB answers it: a Decimal
    rows = Trace(ORDER_ID, steps, verdict, True).rows()
    assert [r["gap_ms"] for r in rows] == [None, 248.0, 52.0, 112.0]  # the invocation began its 1.5 ms (to the ms) before its line


def test_a_slow_notification_names_its_slowest_step():
    evidence = Evidence(ORDER_ID, T0 + timedelta(minutes=5), item=item(took_ms=1700))
    evidence.processes = [process_invocation("p-1", T0 + timedelta(milliseconds=1650), 1, duration_ms=1500)]  # began at 150 ms
    assert timeline(evidence)[1] == "notified in 1.7 s, slowest: ProcessOrder batch of 1, attempt 1 (1.5 s)"
    waited = Evidence(ORDER_ID, T0 + timedelta(minutes=5), item=item(took_ms=2500))
    waited.processes = [process_invocation("p-1", T0 + timedelta(milliseconds=2380), 1, duration_ms=50)]  # began at 2,330 ms
    assert timeline(waited)[1] == "notified in 2.5 s, slowest: the wait for ProcessOrder to take it (2.3 s)"


def test_a_dlq_entry_names_the_attempts_and_the_reason():
    evidence = Evidence(ORDER_ID, T0 + timedelta(minutes=5), item=item(status="NEW"))
    evidence.processes = [process_invocation(f"p-{n}", T0 + timedelta(seconds=n), 1, failed=True) for n in range(1, 5)]
    batch = FailedBatch("m", "r", "RetryAttemptsExhausted", 4, None, "shard", "103", "103", 1, "arn", iso(T0 + timedelta(seconds=5)))
    evidence.dlq = [batch]
    steps, verdict = timeline(evidence)
    assert verdict == "in the DLQ after 4 attempts: record is not a valid order: items missing"
    assert [s.what.split(":")[0] for s in steps if s.source == "ProcessOrder"] == [f"batch of 1, attempt {n}" for n in range(1, 5)]
    assert steps[-1].source == "DLQ"


def test_a_crashed_batch_then_a_smaller_one_is_a_bisection():
    evidence = Evidence(ORDER_ID, T0 + timedelta(minutes=5), item=item())
    evidence.processes = [
        process_invocation("p-1", T0 + timedelta(milliseconds=100), 10, done=False),
        process_invocation("p-2", T0 + timedelta(milliseconds=200), 5),
    ]
    whats = [s.what for s in timeline(evidence)[0] if s.source == "ProcessOrder"]
    assert whats[0].startswith("batch of 10, attempt 1: failed: the invocation ended without")
    assert whats[1] == "batch of 5, attempt 2 (bisected): done"


def test_a_new_order_not_taken_names_the_lag_and_the_alarm():
    evidence = Evidence(ORDER_ID, T0 + timedelta(minutes=3), item=item(status="NEW"), iterator_age_ms=120_000, firing=["stream-lag"])
    assert timeline(evidence)[1] == "NEW for 3 min: ProcessOrder has not taken it (iterator age 2 min, alarm stream-lag in ALARM)"


def test_an_expired_order_is_read_from_the_stream_images():
    images = {"status": "PROCESSED", "createdAt": iso(T0), "notifiedAt": iso(T0 + timedelta(milliseconds=80))}
    records = [StreamRecord("110", "s", "MODIFY", T0, images, False), StreamRecord("190", "s", "REMOVE", T0 + timedelta(days=7), {}, True)]
    evidence = Evidence(ORDER_ID, T0 + timedelta(days=7, hours=1), stream=StreamRead(records, 2, True))
    steps, verdict = timeline(evidence)
    assert verdict == "notified in 80 ms; removed from the table since" and steps[-1].what == "REMOVE: expired (TTL)"


def test_nothing_found_is_an_unknown_order_id():
    assert timeline(Evidence("nope", T0))[1] == "unknown order id"


@pytest.mark.parametrize(("value", "text"), [(412, "412 ms"), (3_200, "3.2 s"), (180_000, "3 min"), (5 * 3_600_000, "5 h")])
def test_durations_read_naturally(value, text):
    assert human(value) == text


def test_a_trace_serialises_for_the_notebooks():
    steps = [Step(T0, "table", "written"), Step(T0 + timedelta(milliseconds=5), "SNS", "published", {"message_id": "m-1"})]
    result = Trace(ORDER_ID, steps, "notified in 5 ms", True)
    as_dict = result.to_dict()
    assert as_dict["steps"][1] == {
        "at": "2026-11-30T07:00:00.005+00:00",
        "gap_ms": 5.0,
        "source": "SNS",
        "what": "published",
        "details": {"message_id": "m-1"},
    }
    assert list(result.to_frame()["source"]) == ["table", "SNS"]
    assert "07:00:00.005      +5 ms  SNS          published" in result.to_table()


def test_a_redriven_order_names_its_time_in_the_dlq():
    evidence = Evidence(ORDER_ID, T0 + timedelta(minutes=5), item=item(took_ms=30_000))
    failing = [process_invocation(f"p-{n}", T0 + timedelta(milliseconds=100 * n), 1, failed=True) for n in range(1, 5)]
    batch = FailedBatch("m", "r", "RetryAttemptsExhausted", 4, None, "shard", "103", "103", 1, "arn", iso(T0 + timedelta(seconds=1)))
    evidence.processes = [*failing, process_invocation("p-5", T0 + timedelta(seconds=29), 1)]
    evidence.dlq = [batch]
    assert timeline(evidence)[1] == "notified in 30.0 s, slowest: the DLQ until the redrive (28.6 s)"


def test_a_redrive_is_told_by_its_own_lines_once_the_dlq_entry_is_gone():
    evidence = Evidence(ORDER_ID, T0 + timedelta(minutes=5), item=item(took_ms=30_000))
    failing = [process_invocation(f"p-{n}", T0 + timedelta(milliseconds=100 * n), 1, failed=True) for n in range(1, 5)]
    again = process_invocation("p-5", T0 + timedelta(seconds=29), 1, redrive={"dlq_message_id": "m", "condition": "RetryAttemptsExhausted"})
    evidence.processes = [*failing, again]  # the redrive deleted the DLQ message: no DLQ evidence
    steps, verdict = timeline(evidence)
    assert [s.what for s in steps if s.source == "ProcessOrder"][-1] == "batch of 1, redrive: done"
    assert verdict == "notified in 30.0 s, slowest: the DLQ until the redrive (28.6 s)"

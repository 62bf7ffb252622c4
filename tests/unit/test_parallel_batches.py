"""ParallelizationFactor: a shard's batches run concurrently, yet each item's records are processed
in sequence order and never two at once, and the checkpoint never passes an unfinished record.
A fake function records what it was given and when; the poller runs on its own thread."""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import pytest

from orders_lib.sandbox.lambda_.event_source_mapping.config import MappingConfig
from orders_lib.sandbox.lambda_.event_source_mapping.retries import InvokeResult
from orders_lib.sandbox.lambda_.event_source_mapping.shard_poller import ShardPoller

from .events import STREAM_ARN, stream_record
from .test_shard_poller import ListReader, key

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:f"


def seq(record) -> int:
    return int(record["dynamodb"]["SequenceNumber"])


def mode(record) -> str:
    return record["dynamodb"]["NewImage"].get("mode", {}).get("S", "ok")


def shard_of(count: int, keys: int, *, modes: dict[int, str] | None = None, seed: int = 7):
    """``count`` INSERTs over ``keys`` items in a shuffled interleaving; ``modes``: record index -> mode."""
    rng = random.Random(seed)
    records = []
    for n in range(count):
        item = {"orderId": f"o-{rng.randrange(keys)}", "status": "NEW", "n": n}
        if modes and n in modes:
            item["mode"] = modes[n]
        records.append(stream_record("INSERT", new=item))
    return records


@dataclass
class Call:
    keys: list[str]
    seqs: list[int]
    started: float
    ended: float = 0.0
    outcome: str = "ok"  # ok, error, partial, throttled


@dataclass
class FakeFunction:
    """Sleeps a little per batch; fails records by their mode; checks, at the start and the end of
    every invocation, that no other running batch holds one of its items and that the poller's
    checkpoint is before every record it was given (they are not finished)."""

    duration_s: float = 0.01
    capacity: int | None = None  # more batches at once than this are throttled
    poller: ShardPoller | None = None
    calls: list[Call] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    seen: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # sequence -> invocations holding it
    running: dict[int, list[str]] = field(default_factory=dict)
    peak: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _check_checkpoint(self, records, when):
        checkpoint = self.poller.checkpoint if self.poller else None
        if checkpoint is not None and int(checkpoint) >= min(seq(r) for r in records):
            self.violations.append(f"checkpoint {checkpoint} at or past an unfinished record {when}")

    def __call__(self, function_arn, event):
        records = event["Records"]
        keys = [key(r) for r in records]
        with self.lock:
            if self.capacity is not None and len(self.running) >= self.capacity:
                self.calls.append(Call(keys, [seq(r) for r in records], time.monotonic(), time.monotonic(), "throttled"))
                return InvokeResult("", None, throttled="ReservedFunctionConcurrentInvocationLimitExceeded")
            for other in self.running.values():
                if set(other) & set(keys):
                    self.violations.append(f"items {set(other) & set(keys)} in two running batches")
            call = Call(keys, [seq(r) for r in records], time.monotonic())
            self.running[id(call)] = keys
            self.peak = max(self.peak, len(self.running))
            self._check_checkpoint(records, "when invoked")
            for r in records:
                self.seen[seq(r)] += 1
            failing = [r for r in records if mode(r) == "poison" or (mode(r) == "flaky" and self.seen[seq(r)] <= 2)]
            partial = [r for r in records if mode(r) == "partial" and self.seen[seq(r)] == 1]
        time.sleep(self.duration_s)
        with self.lock:
            self._check_checkpoint(records, "while running")
            call.ended = time.monotonic()
            del self.running[id(call)]
            self.calls.append(call)
            if failing:
                call.outcome = "error"
                return InvokeResult("r", {"errorMessage": "boom"}, function_error="Unhandled")
            if partial:
                call.outcome = "partial"
                return InvokeResult("r", {"batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in partial]})
            return InvokeResult("r", {"batchItemFailures": []})


def make_poller(records, function, *, factor, batch_size=3, **settings):
    discarded = []
    config = MappingConfig(
        "uuid-1",
        FUNCTION,
        STREAM_ARN,
        batch_size=batch_size,
        parallelization_factor=factor,
        on_failure_arn="arn:aws:sqs:us-east-1:123456789012:dlq",
        **settings,
    )
    poller = ShardPoller(
        config,
        "shardId-1",
        ListReader(records),
        function,
        lambda arn, record: discarded.append((time.monotonic(), record)),
    )
    function.poller = poller
    return poller, discarded


def run_until(poller, done, timeout_s=15.0):
    stop = threading.Event()
    thread = threading.Thread(target=poller.run, args=(stop,), daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    try:
        while not done():
            assert time.monotonic() < deadline, f"not done in {timeout_s} s: {poller.stats}"
            time.sleep(0.01)
    finally:
        stop.set()
        poller.wake.set()
        thread.join(5)
    assert not thread.is_alive()


def by_item(records):
    items = defaultdict(list)
    for r in records:
        items[key(r)].append(seq(r))
    return items


def assert_no_item_in_two_batches_at_once(function):
    ran = [c for c in function.calls if c.outcome != "throttled"]
    for i, a in enumerate(ran):
        for b in ran[i + 1 :]:
            if set(a.keys) & set(b.keys):
                assert a.ended <= b.started or b.ended <= a.started, f"{a} and {b} overlap"
    assert function.violations == []


def test_batches_of_one_shard_overlap_but_never_for_the_same_item():
    records = shard_of(60, keys=4)
    function = FakeFunction(duration_s=0.02)
    poller, discarded = make_poller(records, function, factor=4)
    run_until(poller, lambda: poller.stats.records_delivered >= 60 and poller.pending == 0)
    assert function.peak >= 2 and poller.stats.peak_concurrent_batches >= 2  # batches did run at once
    assert poller.stats.peak_concurrent_batches <= 4
    assert_no_item_in_two_batches_at_once(function)
    delivered = defaultdict(list)
    for call in sorted(function.calls, key=lambda c: c.started):
        for k, s in zip(call.keys, call.seqs, strict=True):
            delivered[k].append(s)
    assert delivered == by_item(records)  # each item's records once each, in sequence order
    assert discarded == [] and poller.checkpoint == records[-1]["dynamodb"]["SequenceNumber"]


def test_concurrency_makes_a_slow_function_keep_up_faster():
    records = shard_of(40, keys=4)
    timings = {}
    for factor in (1, 4):
        function = FakeFunction(duration_s=0.03)
        poller, _ = make_poller(records, function, factor=factor, batch_size=2)
        started = time.monotonic()
        run_until(poller, lambda p=poller: p.pending == 0 and p.stats.records_delivered >= 40)
        timings[factor] = time.monotonic() - started
    assert timings[4] < 0.6 * timings[1], timings


def test_with_factor_one_batches_are_the_shards_records_in_order_one_at_a_time():
    records = shard_of(10, keys=3)
    calls = []
    threads = set()

    def invoke(function_arn, event):
        threads.add(threading.get_ident())
        calls.append([seq(r) for r in event["Records"]])
        return InvokeResult("r", None)

    config = MappingConfig("uuid-1", FUNCTION, STREAM_ARN, batch_size=3)
    poller = ShardPoller(config, "shardId-1", ListReader(records), invoke, lambda arn, record: None)
    while poller.step():
        pass
    assert calls == [[seq(r) for r in records[i : i + 3]] for i in range(0, 10, 3)]  # the shard's order, contiguous
    assert threads == {threading.get_ident()}  # run by step() itself: no pool, no lanes
    assert poller.stats.peak_concurrent_batches == 1 and poller.pending == 0


def test_a_failing_batch_holds_back_only_its_lane_and_loses_or_reorders_nothing():
    """A poison record (retries spent, bisected down, then the DLQ), a record that fails twice
    then succeeds, and one reported as a batch item failure once, among records of other items."""
    modes = {5: "poison", 17: "flaky", 29: "partial"}
    records = shard_of(48, keys=4, modes=modes, seed=11)
    function = FakeFunction(duration_s=0.01)
    poller, discarded = make_poller(
        records, function, factor=4, max_retry_attempts=2, bisect_on_error=True, report_batch_item_failures=True
    )
    run_until(poller, lambda: poller.pending == 0 and poller.stats.on_failure_records >= 1)
    assert_no_item_in_two_batches_at_once(function)
    assert function.peak >= 2

    poison = records[5]
    [(discarded_at, dlq_record)] = discarded
    last_try = [c for c in function.calls if seq(poison) in c.seqs][-1]
    gone = set(last_try.seqs)  # the batch the retries ended on: the poison, bisected down to as few as it could
    info = dlq_record["DDBStreamBatchInfo"]
    assert (int(info["startSequenceNumber"]), int(info["endSequenceNumber"]), info["batchSize"]) == (min(gone), max(gone), len(gone))
    assert dlq_record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert dlq_record["requestContext"]["approximateInvokeCount"] == 3
    assert last_try.outcome == "error" and len(gone) < 3  # bisected

    # Every other record was processed, each item's in sequence order: the flaky one after its
    # retries, the partially failed batch's rest after its retry.
    mode_of = {seq(r): mode(r) for r in records}
    finished = defaultdict(list)  # per item: sequence numbers in the order their batches ended
    for call in sorted((c for c in function.calls if c.outcome in ("ok", "partial")), key=lambda c: c.ended):
        for k, s in zip(call.keys, call.seqs, strict=True):
            if call.outcome == "partial" and mode_of[s] == "partial":
                break  # the reported record and the ones after it are retried
            finished[k].append(s)
    for item, sequence_numbers in by_item(records).items():
        assert finished[item] == [s for s in sequence_numbers if s not in gone], item
    # Nothing of the poison's item after it was processed before the poison went to the DLQ.
    later = {s for s in by_item(records)[key(poison)] if s > seq(poison)} - gone
    assert later and all(c.started >= discarded_at for c in function.calls if set(c.seqs) & later and c.outcome == "ok")
    assert poller.checkpoint == records[-1]["dynamodb"]["SequenceNumber"]


def test_throttled_lanes_back_off_without_spending_attempts():
    """Four lanes against a function that runs two batches at once (its workers or its reserved
    concurrency): the others are throttled, wait, and get through; nothing goes to the DLQ."""
    records = shard_of(32, keys=4)
    function = FakeFunction(duration_s=0.02, capacity=2)
    poller, discarded = make_poller(records, function, factor=4, max_retry_attempts=0)
    run_until(poller, lambda: poller.pending == 0 and poller.stats.records_delivered >= 32)
    assert function.peak == 2 and poller.stats.throttles > 0
    assert discarded == [] and poller.checkpoint == records[-1]["dynamodb"]["SequenceNumber"]
    assert_no_item_in_two_batches_at_once(function)


def test_the_checkpoint_waits_for_the_slowest_lane():
    """A lane still failing its first record keeps the checkpoint before it, however far the
    other lanes got; a restart from that resume point reads that record again."""
    records = shard_of(24, keys=4, modes={0: "poison"})
    function = FakeFunction(duration_s=0.005)
    poller, _ = make_poller(records, function, factor=4, max_retry_attempts=-1)
    others = [r for r in records if key(r) != key(records[0])]  # o-0 .. o-3 hash to four different lanes
    run_until(poller, lambda: all(function.seen[seq(r)] for r in others) and function.seen[seq(records[0])] >= 3)
    assert poller.checkpoint is None  # nothing before the poison record: the checkpoint cannot move at all
    assert poller.resume_point()["checkpoint"] is None and poller.pending >= 1
    assert function.violations == []


@pytest.mark.parametrize("factor", [1, 4])
def test_the_batching_window_waits_to_fill_a_batch_and_a_full_batch_goes_at_once(factor):
    now = [1000.0]
    calls = []

    def invoke(function_arn, event):
        calls.append(len(event["Records"]))
        return InvokeResult("r", None)

    records = [stream_record("INSERT", new={"orderId": "o-1", "status": "NEW", "n": n}) for n in range(13)]
    reader = ListReader(records[:3])
    config = MappingConfig("uuid-1", FUNCTION, STREAM_ARN, batch_size=10, batching_window_s=5, parallelization_factor=factor)
    poller = ShardPoller(config, "shardId-1", reader, invoke, lambda arn, record: None, clock=lambda: now[0])
    poller.step()
    now[0] += 4.9
    poller.step()
    assert calls == []  # 3 records, and the window still open
    now[0] += 0.2
    _settle(poller)
    assert calls == [3]  # the window closed: what there is goes
    reader.records = records  # ten more arrive: a full batch does not wait
    _settle(poller)
    assert calls == [3, 10]
    poller.close()


def _settle(poller):
    """Step until nothing happens and no batch is running (the lanes run on threads when factor > 1)."""
    for _ in range(500):
        busy = poller.step()
        if not busy and poller.stats.concurrent_batches == 0:
            return
        time.sleep(0.002)
    raise AssertionError("the poller did not settle")

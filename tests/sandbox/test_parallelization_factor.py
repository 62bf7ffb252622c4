"""ParallelizationFactor on the sandbox: batches of one shard run at once, each item's records in
order and never in two running batches, and a slow function keeps up faster than with one batch
at a time."""

from __future__ import annotations

import json
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

from orders_lib.sandbox import control
from sandbox_testing import wait_for

PAUSE_S = 0.2
ITEMS, CHANGES = 8, 8  # 64 records, eight changes to each of eight items

SLOW_PROBE = f"""
import json, os, time
import boto3

sqs = boto3.client("sqs")


def handler(event, context):
    started = time.time()
    records = event["Records"]
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in records]
    seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
    print(json.dumps({{"batch": keys}}))
    time.sleep({PAUSE_S})
    body = {{"keys": keys, "seqs": seqs, "started": started, "ended": time.time()}}
    sqs.send_message(QueueUrl=os.environ["PROBE_URL"], MessageBody=json.dumps(body))
"""


def warm(s, workers=4):
    """Start the function's workers first (a cold start costs more than a batch on a small
    machine), so the two runs compare batches, not cold starts."""
    invoke = lambda _: s.aws("lambda").invoke(FunctionName=f"{s.name}-fn", Payload=json.dumps({"Records": []}))
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(invoke, range(workers)))
    s.drain(s.probe_url)


def write_changes(s):
    """Each item written CHANGES times, the items interleaved: INSERT, then MODIFYs."""
    for change in range(CHANGES):
        for item in range(ITEMS):
            s.put(f"k{item}", mode=f"change-{change}")


def delivered(s, count):
    """The batches the probe reported, once they hold ``count`` records."""

    def enough():
        batches = s.invocations()
        return batches if sum(len(b["keys"]) for b in batches) >= count else None

    return list(wait_for(enough, timeout=20, message=f"{count} records delivered"))


def peak_overlap(batches):
    """The most batches running at one moment, from the function's own start and end times."""
    events = sorted([(b["started"], 1) for b in batches] + [(b["ended"], -1) for b in batches], key=lambda e: (e[0], e[1]))
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    return peak


def span(batches):
    return max(b["ended"] for b in batches) - min(b["started"] for b in batches)


def assert_each_item_in_order_and_never_in_two_running_batches(batches, stream_order):
    by_item = defaultdict(list)
    for batch in sorted(batches, key=lambda b: b["started"]):
        for key, seq in zip(batch["keys"], batch["seqs"], strict=True):
            by_item[key].append(seq)
    assert dict(by_item) == stream_order  # every record once, each item's in sequence order
    for i, a in enumerate(batches):
        for b in batches[i + 1 :]:
            if set(a["keys"]) & set(b["keys"]):
                assert a["ended"] <= b["started"] or b["ended"] <= a["started"], (a, b)


def test_a_shard_runs_several_batches_at_once_keeping_each_item_in_order(scenario, aws, bare_sandbox):
    """The same 64 records through a mapping with factor 1, then one with factor 4: the first
    never overlaps its batches, the second does, keeps each item's records in order and apart,
    and finishes in clearly less time."""
    s = scenario(Enabled=False, BatchSize=4, MaximumBatchingWindowInSeconds=1, ParallelizationFactor=1, source=SLOW_PROBE, timeout=10)
    warm(s)
    write_changes(s)
    lambda_ = aws("lambda")
    lambda_.update_event_source_mapping(UUID=s.mapping["UUID"], Enabled=True)
    one_at_a_time = delivered(s, ITEMS * CHANGES)
    stream_order = defaultdict(list)
    for batch in sorted(one_at_a_time, key=lambda b: b["started"]):
        for key, seq in zip(batch["keys"], batch["seqs"], strict=True):
            stream_order[key].append(seq)
    all_seqs = [seq for batch in sorted(one_at_a_time, key=lambda b: b["started"]) for seq in batch["seqs"]]
    assert all_seqs == sorted(all_seqs, key=int)  # factor 1: the shard's order, one batch at a time
    assert peak_overlap(one_at_a_time) == 1
    lambda_.update_event_source_mapping(UUID=s.mapping["UUID"], Enabled=False)

    s.batches = []
    second = lambda_.create_event_source_mapping(
        EventSourceArn=s.stream_arn,
        FunctionName=f"{s.name}-fn",
        StartingPosition="TRIM_HORIZON",
        BatchSize=4,
        MaximumBatchingWindowInSeconds=1,
        ParallelizationFactor=4,
    )
    assert lambda_.get_event_source_mapping(UUID=second["UUID"])["ParallelizationFactor"] == 4
    in_parallel = delivered(s, ITEMS * CHANGES)
    assert_each_item_in_order_and_never_in_two_running_batches(in_parallel, dict(stream_order))
    assert peak_overlap(in_parallel) >= 2
    shards = control.control(bare_sandbox.endpoint, "mappings")[second["UUID"]]["shards"]
    assert max(shard["peak_concurrent_batches"] for shard in shards) >= 2
    assert span(in_parallel) < 0.75 * span(one_at_a_time), (span(in_parallel), span(one_at_a_time))
    assert s.dlq() == []

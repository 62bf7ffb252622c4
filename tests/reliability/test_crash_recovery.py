"""A crash in the middle of a run: the sandbox (and its function workers) killed with SIGKILL
while orders arrive, then started again from its last snapshot.

What must hold (the sandbox snapshots every second here): every order acknowledged (201) longer
ago than one snapshot cycle before the kill is in the table; every order in the table ends
PROCESSED and notified; no subscriber sees an order twice beyond what its dedup id absorbs; the
stream shows each order's NEW -> PROCESSED change once; the mappings carry on by themselves.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from orders_lib.ops import reconcile
from orders_lib.ops.orders import invoke_create, random_request
from orders_lib.sandbox import control
from sandbox_testing import Aws, wait_for

ORDERS = 1000
KILL_AFTER = 500  # acknowledged orders
RATE_PER_S = 40.0
SNAPSHOT_INTERVAL_S = 1.0


def _drive(aws: Aws, function: str, acked: dict[str, float], stop: threading.Event) -> None:
    rng = random.Random(23)
    requests = [random_request(rng) for _ in range(ORDERS)]
    lock = threading.Lock()

    def create(request):
        if stop.is_set():
            return
        try:
            result = invoke_create(aws("lambda"), function, request)
        except (BotoCoreError, ClientError):
            return  # the sandbox is gone: this order was not acknowledged
        if result.status_code == 201:
            with lock:
                acked[result.order["orderId"]] = time.time()

    with ThreadPoolExecutor(4) as pool:
        started = time.monotonic()
        for n, request in enumerate(requests):
            if stop.is_set():
                break
            time.sleep(max(0.0, started + n / RATE_PER_S - time.monotonic()))
            pool.submit(create, request)


@pytest.fixture(scope="module")
def crash(tmp_path_factory):
    state_dir = tmp_path_factory.mktemp("sandbox-crash")
    first, _ = control.start(port=0, state_dir=state_dir, timeout_s=120, iam="enforce", snapshot_interval_s=SNAPSHOT_INTERVAL_S)
    try:
        aws, outputs = Aws(first.endpoint, attempts=1), first.outputs
        subscriber = aws("sqs").create_queue(QueueName="crash-subscriber")["QueueUrl"]
        arn = aws("sqs").get_queue_attributes(QueueUrl=subscriber, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        aws("sns").subscribe(TopicArn=outputs["TopicArn"], Protocol="sqs", Endpoint=arn)
        acked: dict[str, float] = {}
        stop = threading.Event()
        writer = threading.Thread(target=_drive, args=(aws, outputs["CreateOrderFunctionName"], acked, stop))
        writer.start()
        wait_for(lambda: len(acked) >= KILL_AFTER, timeout=120, interval=0.05, message=f"{KILL_AFTER} orders acknowledged")
        persistence = control.control(first.endpoint, "health")["persistence"]
        os.killpg(first.pid, signal.SIGKILL)  # the sandbox and its function workers, mid-run
        killed_at = time.time()
        stop.set()
        writer.join(60)
        wait_for(lambda: control.running(state_dir) is None, timeout=10, message="the killed sandbox gone")

        second, started = control.start(port=0, state_dir=state_dir, timeout_s=120, iam="enforce")
        assert started
        yield {
            "aws": Aws(second.endpoint),
            "outputs": second.outputs,
            "endpoint": second.endpoint,
            "acked": dict(acked),
            "killed_at": killed_at,
            "persistence_before": persistence,
            "subscriber": subscriber,
        }
    finally:
        control.stop(state_dir)


def _present(aws, table, ids):
    found = {}
    for start in range(0, len(ids), 100):
        keys = [{"orderId": {"S": i}} for i in ids[start : start + 100]]
        for item in aws("dynamodb").batch_get_item(RequestItems={table: {"Keys": keys, "ConsistentRead": True}})["Responses"][table]:
            found[item["orderId"]["S"]] = item
    return found


def test_orders_acknowledged_before_the_last_snapshot_survive_the_crash(crash):
    aws, table = crash["aws"], crash["outputs"]["TableName"]
    cycle_s = SNAPSHOT_INTERVAL_S + (crash["persistence_before"]["last_write_ms"] or 0) / 1000 + 1.0  # one cycle, with slack
    old_enough = [order for order, at in crash["acked"].items() if at < crash["killed_at"] - cycle_s]
    assert len(old_enough) > KILL_AFTER / 2
    assert crash["persistence_before"]["snapshots"] >= 1, "no snapshot was taken during the run"
    present = _present(aws, table, old_enough)
    missing = sorted(set(old_enough) - set(present))
    assert not missing, f"{len(missing)} order(s) acknowledged more than {cycle_s:.1f} s before the kill are gone: {missing[:5]}"


def test_every_order_present_ends_processed_and_notified_once_per_dedup_id(crash):
    aws, outputs = crash["aws"], crash["outputs"]
    items = reconcile.scan_items(aws("dynamodb"), outputs["TableName"])
    present = [str(i["orderId"]) for i in items]

    def all_notified():
        statuses = _present(aws, outputs["TableName"], present)
        return all(i["status"]["S"] == "PROCESSED" and "notifiedAt" in i for i in statuses.values())

    wait_for(all_notified, timeout=90, interval=0.5, message="every order in the table PROCESSED and notified")
    result = reconcile.reconcile(
        present,
        [],
        reconcile.scan_items(aws("dynamodb"), outputs["TableName"]),
        reconcile.read_stream(aws("dynamodbstreams"), outputs["TableStreamArn"]),
        reconcile.drain_notifications(aws("sqs"), crash["subscriber"]),
        reconcile.read_dlq(aws("sqs"), aws("dynamodbstreams"), outputs["DlqUrl"]),
    )
    assert result.ok, result.table()
    assert result.created == result.processed == result.notified == len(present) >= KILL_AFTER / 2
    mappings = control.control(crash["endpoint"], "mappings")
    assert all(shard["checkpoint"] for mapping in mappings.values() for shard in mapping["shards"])

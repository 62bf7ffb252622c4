"""200 concurrent clients against the sandbox: every request answered, nothing starved.

Run 1: 1,000 CreateOrder invocations from 200 clients with boto3's standard
retries; all end ``201`` and every order is ``PROCESSED`` and notified, while
``/_sandbox/health`` answers within 1 s throughout. Run 2: the same clients with
retries off against a small queue bound: the excess is refused at once with
``TooManyRequestsException``, never a hang, a 5xx or a dropped connection.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from botocore.config import Config

from orders_lib.aws.clients import new_client
from orders_lib.ops.notifications import subscribe_queue, unsubscribe
from orders_lib.ops.orders import create_bulk
from orders_lib.ops.reconcile import drain_notifications, scan_items
from orders_lib.sandbox import control
from orders_lib.settings import Settings

from .conftest import wait_until_settled

CLIENTS = 200
REQUESTS = 1000
HEALTH_BOUND_S = 1.0


PROBE = """
import sys, time, urllib.request
while True:
    started = time.monotonic()
    try:
        urllib.request.urlopen(sys.argv[1] + "/_sandbox/health", timeout=10).read()
        print("ok", time.monotonic() - started, flush=True)
    except OSError as error:
        print("fail", repr(error).replace(" ", "_"), flush=True)
    time.sleep(0.1)
"""


class HealthProbe:
    """Asks ``/_sandbox/health`` every 100 ms from a process of its own (so the
    clients' own load on this interpreter does not count) and keeps each answer time."""

    def __init__(self, endpoint: str):
        self.endpoint, self.times, self.failures = endpoint, [], []

    def __enter__(self) -> HealthProbe:
        self._process = subprocess.Popen([sys.executable, "-c", PROBE, self.endpoint], stdout=subprocess.PIPE, text=True)
        return self

    def __exit__(self, *_: object) -> None:
        self._process.terminate()
        out, _ = self._process.communicate(timeout=15)
        for line in out.splitlines():
            kind, value = line.split(" ", 1)
            (self.times.append(float(value)) if kind == "ok" else self.failures.append(value))


def factory(endpoint: str, retries: dict) -> callable:
    settings = Settings(target="sandbox", endpoint_url=endpoint)
    config = Config(retries=retries, max_pool_connections=1, read_timeout=60)
    return lambda: new_client("lambda", settings, config)


@pytest.fixture(scope="module")
def load(sandbox, aws, outputs):
    control.control(sandbox.endpoint, "chaos", {"reset": True})
    subscriber = subscribe_queue(aws("sns"), aws("sqs"), outputs["TopicArn"], "load-subscriber")
    try:
        with HealthProbe(sandbox.endpoint) as health:
            report = create_bulk(
                None,
                outputs["CreateOrderFunctionName"],
                REQUESTS,
                rate_per_s=0,
                clients=CLIENTS,
                seed=909,
                client_factory=factory(sandbox.endpoint, {"mode": "standard"}),
            )
        capacity = control.control(sandbox.endpoint, "capacity")
        wait_until_settled(sandbox.endpoint)
        notified = {note["orderId"] for note in drain_notifications(aws("sqs"), subscriber.queue_url)}
    finally:
        unsubscribe(aws("sns"), aws("sqs"), subscriber)
    items = {item["orderId"]: item for item in scan_items(aws("dynamodb"), outputs["TableName"])}
    peak_waiting = capacity["functions"][outputs["CreateOrderFunctionName"]]["peak_waiting"]
    print(
        f"\n{CLIENTS} clients, {REQUESTS} invocations: {report.summary()}; health max {max(health.times) * 1000:.0f} ms "
        f"over {len(health.times)} probes; create-order peak waiting {peak_waiting}"
    )
    return {"report": report, "health": health, "items": items, "notified": notified, "capacity": capacity}


def test_every_request_from_200_clients_is_answered_and_created(load):
    report = load["report"]
    assert report.counts() == {"created": REQUESTS, "repeated": 0, "rejected": 0, "throttled": 0, "errors": 0}, report.summary()


def test_the_clients_really_overlapped_and_waited_in_the_queue(load, outputs):
    stats = load["capacity"]["functions"][outputs["CreateOrderFunctionName"]]
    assert stats["peak_running"] == load["capacity"]["max_workers"]
    assert stats["peak_waiting"] >= CLIENTS // 2, stats


def test_health_answered_within_a_second_throughout(load):
    health = load["health"]
    assert not health.failures, health.failures[:3]
    assert len(health.times) >= 10, "the run was too short to say anything"
    assert max(health.times) < HEALTH_BOUND_S, f"slowest health answer {max(health.times):.2f} s"


def test_every_order_is_processed_and_notified(load):
    created = load["report"].order_ids
    assert len(set(created)) == REQUESTS
    assert all(load["items"][order_id]["status"] == "PROCESSED" for order_id in created)
    assert set(created) <= load["notified"], f"{len(set(created) - load['notified'])} orders never notified"


def test_without_retries_the_excess_is_throttled_at_once_never_hung(sandbox, outputs):
    function = outputs["CreateOrderFunctionName"]
    before = control.control(sandbox.endpoint, "capacity")
    control.control(sandbox.endpoint, "capacity", {"max_queue": 8})
    try:
        with HealthProbe(sandbox.endpoint) as health:
            report = create_bulk(
                None,
                function,
                400,
                rate_per_s=0,
                clients=CLIENTS,
                seed=910,
                client_factory=factory(sandbox.endpoint, {"total_max_attempts": 1, "mode": "standard"}),
            )
    finally:
        control.control(sandbox.endpoint, "capacity", {"max_queue": before["max_queue"]})
    counts = report.counts()
    assert counts["throttled"] > 0 and counts["created"] > 0, report.summary()
    assert counts["errors"] == 0 and counts["created"] + counts["throttled"] == 400, report.summary()
    assert max(report.latencies_ms) < 15_000, "a request waited far longer than the queue allows"
    assert not health.failures and max(health.times) < HEALTH_BOUND_S
    throttles = control.control(sandbox.endpoint, "capacity")["functions"][function]["throttled"]
    assert throttles >= counts["throttled"]

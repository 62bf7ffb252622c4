"""Reconciliation under faults: 500 orders while SNS fails 20 % of publishes, 5 % of
records are poison and one ProcessOrder worker is killed mid-batch.

The verdict comes from the table, the stream, a notification subscriber and the
DLQ (``orders_lib.ops.reconcile``), not from the pipeline's own logs.
"""

from __future__ import annotations

import time

import pytest

from orders_lib.aws.repository import OrderRepository
from orders_lib.ops import dlq, reconcile
from orders_lib.ops.notifications import subscribe_queue, unsubscribe
from orders_lib.sandbox import control

from .conftest import wait_until_settled

ORDERS = 500
POISON_SHARE = 0.05
RATE_PER_S = 25
PUBLISH_FAILURE_RATE = 0.2
PROCESS = "techtest-process-order"


@pytest.fixture(scope="module")
def run(sandbox, aws, outputs):
    """Drive the run once; the tests below read its evidence."""
    subscriber = subscribe_queue(aws("sns"), aws("sqs"), outputs["TopicArn"], "reconciliation-subscriber")
    control.control(sandbox.endpoint, "chaos", {"sns_publish_failure_rate": PUBLISH_FAILURE_RATE, "seed": 6, "crash_after_ms": 15})

    def arm_crash_mid_run(number: int) -> None:
        if number == ORDERS // 3:  # a third of the way in: batches are flowing
            control.control(sandbox.endpoint, "chaos", {"function_crashes": {PROCESS: 1}})

    try:
        report = reconcile.drive(
            aws("lambda"),
            outputs["CreateOrderFunctionName"],
            aws("dynamodb"),
            outputs["TableName"],
            ORDERS,
            poison_share=POISON_SHARE,
            rate_per_s=RATE_PER_S,
            seed=6,
            on_progress=arm_crash_mid_run,
        )
        driven_at = time.monotonic()
        wait_until_settled(sandbox.endpoint)
        chaos_after = control.control(sandbox.endpoint, "chaos")
    finally:
        control.control(sandbox.endpoint, "chaos", {"reset": True})

    settled_at = time.monotonic()
    # Operator step: a valid order whose four publishes all failed sits PROCESSED but
    # unnotified in a DLQ batch; redriving that batch is how its notification goes out.
    batches = reconcile.read_dlq(aws("sqs"), aws("dynamodbstreams"), outputs["DlqUrl"])
    repo = OrderRepository(aws("dynamodb"), outputs["TableName"])
    created, redriven = set(report.created), 0
    for batch in batches:
        covered = [dlq.explain(r)["orderId"] for r in batch.records]
        if any(key in created and not (repo.get_item(key) or {}).get("notifiedAt") for key in covered):
            redriven += dlq.redrive(aws("lambda"), aws("sqs"), outputs["DlqUrl"], outputs["ProcessOrderFunctionName"], batch)["redriven"]
    if redriven:
        batches = reconcile.read_dlq(aws("sqs"), aws("dynamodbstreams"), outputs["DlqUrl"])

    result = reconcile.reconcile(
        report.created,
        report.poison,
        reconcile.scan_items(aws("dynamodb"), outputs["TableName"]),
        reconcile.read_stream(aws("dynamodbstreams"), outputs["TableStreamArn"]),
        reconcile.drain_notifications(aws("sqs"), subscriber.queue_url),
        batches,
    )
    unsubscribe(aws("sns"), aws("sqs"), subscriber)
    print(
        f"\ndrove {len(report.created)} orders + {len(report.poison)} poison records in {report.seconds:.1f} s "
        f"({report.rate_per_s:.1f}/s), settled {settled_at - driven_at:.1f} s later, reconciled in "
        f"{time.monotonic() - settled_at:.1f} s; {len(batches)} on-failure records in the DLQ; "
        f"{redriven} records redriven for unnotified orders"
    )
    print(result.table())
    return {"report": report, "result": result, "chaos": chaos_after, "batches": batches}


def test_the_run_had_the_faults_it_claims(run, aws):
    report = run["report"]
    assert len(report.created) >= ORDERS and report.rejected == 0 and report.repeated == 0
    assert len(report.poison) / (len(report.created) + len(report.poison)) >= POISON_SHARE - 0.005
    assert run["chaos"]["function_crashes"] == {PROCESS: 0}, "the worker kill was never used"
    logs = aws("logs").filter_log_events(logGroupName=f"/aws/lambda/{PROCESS}", filterPattern="killed")["events"]
    assert any("Runtime exited with error: signal: killed" in e["message"] for e in logs)


def test_no_valid_order_is_lost_or_changes_state_twice(run):
    result = run["result"]
    assert result.lost == 0 and result.duplicated_transitions == 0, result.table()
    assert result.processed == result.created == result.notified, result.table()
    assert result.ok, result.table()


def test_every_poison_record_is_in_the_dlq_with_its_on_failure_record(run):
    result = run["result"]
    assert result.in_dlq == result.poison == len(run["report"].poison), result.table()
    for batch in run["batches"]:
        assert batch.condition == "RetryAttemptsExhausted" and batch.invoke_count == 4
        assert batch.records, "the stream records an on-failure record names can be read back"
        assert "not a valid order" in batch.row()["why"]

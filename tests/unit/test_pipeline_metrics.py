"""The pipeline's own metrics: one embedded-metric-format line per invocation, in the log, with
the counts each handler's outcome gives."""

from __future__ import annotations

import json

from orders_lib.pipeline import metrics as pipeline_metrics

from .conftest import valid_request
from .test_process_handler import insert, new_order, stream_event


def emf_lines(text: str) -> list[dict]:
    found = []
    for line in text.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and "_aws" in document:
            found.append(document)
    return found


def values(document: dict) -> dict[str, float]:
    names = [m["Name"] for directive in document["_aws"]["CloudWatchMetrics"] for m in directive["Metrics"]]
    return {name: sum(document[name]) if isinstance(document[name], list) else document[name] for name in names}


def test_create_order_counts_created_repeated_and_rejected(create_handler, context, capsys):
    capsys.readouterr()
    create_handler(valid_request(idempotencyKey="m-1"), context)
    create_handler(valid_request(idempotencyKey="m-1"), context)
    create_handler(valid_request(currency="ZZZ"), context)
    lines = emf_lines(capsys.readouterr().out)
    assert [values(line) for line in lines] == [{"OrdersCreated": 1}, {"OrdersRepeated": 1}, {"OrdersRejected": 1}]
    directive = lines[0]["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == pipeline_metrics.NAMESPACE and directive["Dimensions"] == [["service"]]
    assert lines[0]["service"] == pipeline_metrics.DEFAULT_SERVICE


def definitions(document: dict) -> list[dict]:
    return [m for directive in document["_aws"]["CloudWatchMetrics"] for m in directive["Metrics"]]


def test_every_pipeline_metric_is_written_at_high_resolution(create_handler, process_handler, context, repo, clock, subscriber, capsys):
    """``StorageResolution: 1`` in each metric definition: CloudWatch keeps 1-second data (3 hours)."""
    capsys.readouterr()
    create_handler(valid_request(idempotencyKey="hires-1"), context)
    process_handler(stream_event(insert(new_order(repo, clock, "hires-2"))), context)
    found = [m for line in emf_lines(capsys.readouterr().out) for m in definitions(line)]
    assert {m["Name"] for m in found} == {"OrdersCreated", "OrdersProcessed", "NotificationsPublished", "NotificationsFailed"}
    assert all(m == {"Name": m["Name"], "Unit": "Count", "StorageResolution": 1} for m in found), found


def test_process_order_counts_processed_and_notified_once_per_invocation(process_handler, context, repo, clock, subscriber, capsys):
    orders = [new_order(repo, clock, f"m-{n}") for n in range(3)]
    capsys.readouterr()
    process_handler(stream_event(*[insert(order) for order in orders]), context)
    [line] = emf_lines(capsys.readouterr().out)
    assert values(line) == {"OrdersProcessed": 3, "NotificationsPublished": 3, "NotificationsFailed": 0}


def test_a_refused_publish_is_counted_as_a_failed_notification(process_handler, context, repo, clock, capsys, monkeypatch):
    import process_order
    from botocore.exceptions import ClientError

    class Down:
        def publish_batch(self, **kwargs):
            raise ClientError({"Error": {"Code": "InternalError", "Message": "SNS down"}}, "PublishBatch")

    monkeypatch.setattr(process_order.notifier, "_client", Down())
    order = new_order(repo, clock, "m-down")
    capsys.readouterr()
    process_handler(stream_event(insert(order)), context)
    [line] = emf_lines(capsys.readouterr().out)
    assert values(line) == {"OrdersProcessed": 0, "NotificationsPublished": 0, "NotificationsFailed": 1}  # still NEW: retried


def test_namespace_and_service_follow_powertools_variables():
    configured = pipeline_metrics.pipeline_metrics(
        {"POWERTOOLS_METRICS_NAMESPACE": "Other", "POWERTOOLS_SERVICE_NAME": "techtest-orders-dev"}
    )
    configured.add_metric(name="OrdersCreated", unit="Count", value=1)
    document = configured.serialize_metric_set()
    assert document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Other" and document["service"] == "techtest-orders-dev"
    configured.clear_metrics()

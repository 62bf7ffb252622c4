"""The pipeline's own metrics, in CloudWatch's embedded metric format (Powertools Metrics): they
travel in the function's log, so they cost no API call, and CloudWatch (or the sandbox) turns
them into metrics. One namespace, one ``service`` dimension (the stack's name, so stages stay
apart), flushed once per invocation by the handler's ``log_metrics`` decorator.

High resolution (``StorageResolution: 1`` in each metric's definition): CloudWatch keeps them
at 1-second granularity for 3 hours, so a 30-second incident reads at 10-second periods; the
alarms on them still look at whole minutes (a 10 or 30 s alarm is billed as high-resolution;
what each choice costs: README, "Operations").
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Resolution_definition

The alarms and the dashboard (``cdk/monitoring.py``) and the operations notebook read the same
names from here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricResolution, MetricUnit

from .process import BatchResult

NAMESPACE = "TechtestOrders"
DEFAULT_SERVICE = "techtest-orders"

ORDERS_CREATED = "OrdersCreated"
ORDERS_REPEATED = "OrdersRepeated"  # an idempotent repeat: the stored order answered again
ORDERS_REJECTED = "OrdersRejected"  # 400 (invalid) or 409 (key reused for another request)
ORDERS_PROCESSED = "OrdersProcessed"
NOTIFICATIONS_PUBLISHED = "NotificationsPublished"
NOTIFICATIONS_FAILED = "NotificationsFailed"
ALL = (ORDERS_CREATED, ORDERS_REPEATED, ORDERS_REJECTED, ORDERS_PROCESSED, NOTIFICATIONS_PUBLISHED, NOTIFICATIONS_FAILED)


def pipeline_metrics(environ: Mapping[str, str] = os.environ) -> Metrics:
    """The handlers' Metrics: namespace and service from Powertools' variables, else ours."""
    return Metrics(
        namespace=environ.get("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE),
        service=environ.get("POWERTOOLS_SERVICE_NAME", DEFAULT_SERVICE),
    )


def _count(metrics: Metrics, name: str, value: int) -> None:
    # Zeros are recorded too: a chart shows 0 rather than a gap, and Powertools does not warn
    # about an invocation with no metric.
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value, resolution=MetricResolution.High)


def record_create(metrics: Metrics, response: Mapping[str, Any]) -> None:
    """One CreateOrder answer: 201 created, 200 repeated, 400/409 rejected."""
    status = response.get("statusCode")
    name = {201: ORDERS_CREATED, 200: ORDERS_REPEATED}.get(status, ORDERS_REJECTED)  # type: ignore[arg-type]
    _count(metrics, name, 1)


def record_batch(metrics: Metrics, result: BatchResult) -> None:
    """One ProcessOrder batch: state changes made, notifications accepted and refused."""
    _count(metrics, ORDERS_PROCESSED, len(result.processed))
    _count(metrics, NOTIFICATIONS_PUBLISHED, len(result.notified))
    _count(metrics, NOTIFICATIONS_FAILED, len(result.publish_failed))

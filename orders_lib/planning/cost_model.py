"""What the pipeline costs on AWS: per service, per million orders and per month at a rate.

Usage lines scale with orders (what one order uses × the price); fixed lines are monthly (the
stack's key, alarms, dashboard and metrics), shared out over the month's orders in the per-million
figure. ProcessOrder's batches hold fewer records at low rates (``capacity_model.batch_records``),
so its invocations, and so its cost per order, depend on the rate. A month is 730 hours, as in
AWS's pricing examples; a GB of logs is 1,024³ bytes. These are estimates from list prices, in
float USD: not an invoice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import limits
from .capacity_model import batch_records, stream_shards
from .figures import SQS_CHUNK_BYTES, MappingSettings, PipelineFigures, chunks, gb_seconds
from .prices import PriceTable, load_prices

if TYPE_CHECKING:
    import pandas as pd

HOURS_PER_MONTH = 730
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
GIB = 1024**3
MILLION = 1_000_000


@dataclass(frozen=True)
class CostLine:
    service: str
    item: str
    quantity_per_order: float  # in the price's unit; 0 for fixed lines
    per_million: float  # USD per million orders (a fixed line: its share at the rate)
    per_month: float  # USD a month at the rate
    fixed: bool
    price: str  # the price entry used
    verified: bool


@dataclass(frozen=True)
class CostEstimate:
    rate: float
    orders_per_month: float
    batch_records: float
    lines: tuple[CostLine, ...]
    prices: PriceTable

    @property
    def per_month(self) -> float:
        return sum(line.per_month for line in self.lines)

    @property
    def per_million(self) -> float:
        """All costs per million orders at this rate, fixed ones shared out."""
        return sum(line.per_million for line in self.lines)

    @property
    def usage_per_million(self) -> float:
        """Per million orders, without the fixed monthly costs: what one more million adds."""
        return sum(line.per_million for line in self.lines if not line.fixed)

    def by_service(self) -> dict[str, tuple[float, float]]:
        """(per month, per million orders) for each service, in the lines' order."""
        totals: dict[str, tuple[float, float]] = {}
        for line in self.lines:
            month, million = totals.get(line.service, (0.0, 0.0))
            totals[line.service] = (month + line.per_month, million + line.per_million)
        return totals

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([line.__dict__ for line in self.lines])


def estimate(
    rate: float,
    figures: PipelineFigures | None = None,
    settings: MappingSettings | None = None,
    prices: PriceTable | None = None,
) -> CostEstimate:
    """The cost lines at ``rate`` orders/s, every order processed (a pipeline that falls behind
    still processes each order once, later)."""
    if rate <= 0:
        raise ValueError(f"a rate must be above 0 orders/s, got {rate}")
    figures, settings = figures or PipelineFigures(), settings or MappingSettings()
    prices = prices or load_prices()
    orders_per_month = rate * SECONDS_PER_MONTH
    records = batch_records(rate, figures, settings)
    memory, granularity = figures.memory_mb, figures.billing_granularity_ms
    per_publish = min(records, limits.SNS_PUBLISH_BATCH_MAX)  # notifications in one PublishBatch
    shards = stream_shards(rate, figures, settings)

    usage: list[tuple[str, str, str, float]] = [
        ("Lambda", "CreateOrder requests", "lambda_requests", 1.0),
        ("Lambda", "CreateOrder duration (GB-s)", "lambda_arm_gb_seconds", gb_seconds(memory, figures.create_ms, granularity)),
        ("Lambda", "ProcessOrder requests", "lambda_requests", 1 / records),
        (
            "Lambda",
            "ProcessOrder duration (GB-s)",
            "lambda_arm_gb_seconds",
            gb_seconds(memory, figures.process_ms(records), granularity) / records,
        ),
        ("DynamoDB", "write request units", "dynamodb_write_request_units", figures.write_units_per_order()),
        ("DynamoDB", "read request units", "dynamodb_read_request_units", figures.read_units_per_order()),
        (
            "DynamoDB Streams",
            "GetRecords by the Lambda trigger",
            "dynamodb_streams_reads_by_lambda",
            shards * limits.STREAM_POLLS_PER_S / rate,
        ),
        (
            "SNS",
            "publish requests (64 KB chunks)",
            "sns_publish_requests",
            figures.notifications_per_order * chunks(per_publish * figures.notification_bytes) / per_publish,
        ),
    ]
    for protocol, deliveries in sorted(figures.sns_deliveries_per_order.items()):
        name = f"sns_deliveries_{protocol}"
        if name not in prices.prices:
            raise ValueError(f"no SNS delivery price for protocol {protocol!r} (known: sqs, lambda, http, email)")
        usage.append(("SNS", f"deliveries to {protocol}", name, deliveries))
    usage += [
        (
            "SQS",
            "requests (64 KB chunks)",
            "sqs_requests",
            figures.sqs_messages_per_order * figures.sqs_requests_per_message * chunks(figures.sqs_message_bytes, SQS_CHUNK_BYTES),
        ),
        ("KMS", "requests", "kms_requests", figures.kms_requests_per_order),
        ("CloudWatch", "logs ingested (GB)", "cloudwatch_logs_ingested_gb", figures.log_bytes_per_order / GIB),
        (
            "CloudWatch",
            "logs stored (GB-months)",
            "cloudwatch_logs_stored_gb_months",
            figures.log_bytes_per_order / GIB * figures.log_retention_months * figures.log_stored_share,
        ),
    ]
    fixed: list[tuple[str, str, str, float]] = [
        ("KMS", "customer managed key", "kms_key_months", figures.kms_keys),
        ("CloudWatch", "custom metrics (EMF)", "cloudwatch_custom_metric_months", figures.custom_metrics),
        ("CloudWatch", "alarms", "cloudwatch_alarm_months", figures.alarms),
        ("CloudWatch", "dashboard", "cloudwatch_dashboard_months", figures.dashboards),
    ]
    millions = orders_per_month / MILLION
    lines = []
    for service, item, name, quantity in usage:
        per_million = prices.cost(name, quantity * MILLION)
        lines.append(CostLine(service, item, quantity, per_million, per_million * millions, False, name, prices[name].verified))
    for service, item, name, count in fixed:
        per_month = prices.cost(name, count)
        lines.append(CostLine(service, item, 0.0, per_month / millions, per_month, True, name, prices[name].verified))
    return CostEstimate(rate, orders_per_month, records, tuple(lines), prices)

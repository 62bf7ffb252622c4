"""The ORDER_PROCESSED notification: what subscribers may learn about an order.

The body is built from an allow-list: identifiers, status, amounts, counts and
timestamps. Customer name, email and id never leave the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import codec
from .model import Order

EVENT_TYPE = "ORDER_PROCESSED"
BODY_KEYS = frozenset(
    {"eventType", "orderId", "status", "currency", "total", "itemCount", "lineCount", "createdAt", "processedAt", "dedupId"}
)


@dataclass(frozen=True)
class Notification:
    order_id: str
    dedup_id: str
    body: dict[str, Any]
    attributes: dict[str, str]

    @property
    def message(self) -> str:
        return codec.dumps(self.body)

    def sns_attributes(self) -> dict[str, dict[str, str]]:
        return {name: {"DataType": "String", "StringValue": value} for name, value in self.attributes.items()}


def dedup_id(order_id: str) -> str:
    """Stable per order and event: a subscriber drops repeats by this id."""
    return f"{order_id}:{EVENT_TYPE}"


def build_notification(order: Order) -> Notification:
    dedup = dedup_id(order.order_id)
    body: dict[str, Any] = {
        "eventType": EVENT_TYPE,
        "orderId": order.order_id,
        "status": order.status.value,
        "currency": order.currency,
        "total": str(order.total),
        "itemCount": order.item_count,
        "lineCount": len(order.items),
        "createdAt": order.created_at,
        "processedAt": order.processed_at,
        "dedupId": dedup,
    }
    assert set(body) <= BODY_KEYS
    # Attributes let subscriptions filter (e.g. {"currency": ["EUR"]}) without reading the body.
    attributes = {"eventType": EVENT_TYPE, "status": order.status.value, "currency": order.currency, "dedupId": dedup}
    return Notification(order.order_id, dedup, body, attributes)

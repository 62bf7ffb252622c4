"""The order and its status transitions.

An ``Order`` is immutable; a transition returns a new order. The DynamoDB item
form (``to_item``/``from_item``) uses camelCase attribute names, Decimal for
money and epoch seconds for the TTL attribute ``expiresAt``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from enum import Enum
from typing import Any

CENT = Decimal("0.01")


class OrderStatus(str, Enum):
    NEW = "NEW"
    PROCESSED = "PROCESSED"


# Every allowed move. Anything else is refused by the domain and, in DynamoDB,
# by the conditional update that mirrors it.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.NEW: frozenset({OrderStatus.PROCESSED}),
    OrderStatus.PROCESSED: frozenset(),
}


class InvalidTransition(ValueError):
    pass


class InvalidOrder(ValueError):
    """A stored item (or stream image) that is not a well-formed order."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("not a valid order: " + "; ".join(problems))


@dataclass(frozen=True)
class Customer:
    customer_id: str
    name: str
    email: str

    def to_item(self) -> dict[str, Any]:
        return {"customerId": self.customer_id, "name": self.name, "email": self.email}


@dataclass(frozen=True)
class LineItem:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal

    @property
    def line_total(self) -> Decimal:
        return (self.unit_price * self.quantity).quantize(CENT)

    def to_item(self) -> dict[str, Any]:
        return {"sku": self.sku, "name": self.name, "quantity": self.quantity, "unitPrice": self.unit_price}


@dataclass(frozen=True)
class Order:
    order_id: str
    customer: Customer
    items: tuple[LineItem, ...]
    currency: str
    status: OrderStatus
    created_at: str
    expires_at: int
    idempotency_key: str
    request_hash: str
    processed_at: str | None = None
    notified_at: str | None = None

    @property
    def total(self) -> Decimal:
        return sum((item.line_total for item in self.items), Decimal("0.00")).quantize(CENT)

    @property
    def item_count(self) -> int:
        return sum(item.quantity for item in self.items)

    def transition(self, target: OrderStatus, at: str) -> Order:
        if target not in TRANSITIONS[self.status]:
            raise InvalidTransition(f"order {self.order_id}: {self.status.value} -> {target.value} is not allowed")
        return replace(self, status=target, processed_at=at if target is OrderStatus.PROCESSED else self.processed_at)

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "orderId": self.order_id,
            "customer": self.customer.to_item(),
            "items": [line.to_item() for line in self.items],
            "currency": self.currency,
            "total": self.total,
            "status": self.status.value,
            "createdAt": self.created_at,
            "expiresAt": self.expires_at,
            "idempotencyKey": self.idempotency_key,
            "requestHash": self.request_hash,
        }
        if self.processed_at is not None:
            item["processedAt"] = self.processed_at
        if self.notified_at is not None:
            item["notifiedAt"] = self.notified_at
        return item

    def to_public(self) -> dict[str, Any]:
        """What CreateOrder returns to the caller (the full order, total included)."""
        public = self.to_item()
        del public["requestHash"]
        return public

    @classmethod
    def from_item(cls, item: Any) -> Order:
        """Rebuild an order from its stored form, listing every problem found."""
        problems: list[str] = []
        if not isinstance(item, dict):
            raise InvalidOrder([f"item is {type(item).__name__}, not a map"])

        def text(source: dict[str, Any], key: str, where: str = "", required: bool = True) -> str | None:
            value = source.get(key)
            if value is None and not required:
                return None
            if not isinstance(value, str) or not value:
                problems.append(f"{where}{key} missing or not a string")
                return None
            return value

        def number(source: dict[str, Any], key: str, where: str) -> Decimal | None:
            value = source.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
                problems.append(f"{where}{key} missing or not a number")
                return None
            return Decimal(value)

        order_id = text(item, "orderId")
        raw_customer = item.get("customer")
        customer = None
        if isinstance(raw_customer, dict):
            values = [text(raw_customer, k, "customer.") for k in ("customerId", "name", "email")]
            if all(values):
                customer = Customer(*values)  # type: ignore[arg-type]
        else:
            problems.append("customer missing or not a map")
        lines: list[LineItem] = []
        raw_items = item.get("items")
        if not isinstance(raw_items, list) or not raw_items:
            problems.append("items missing or empty")
        else:
            for index, raw in enumerate(raw_items):
                where = f"items[{index}]."
                if not isinstance(raw, dict):
                    problems.append(f"items[{index}] not a map")
                    continue
                sku, name = text(raw, "sku", where), text(raw, "name", where)
                quantity, price = number(raw, "quantity", where), number(raw, "unitPrice", where)
                if sku and name and quantity is not None and price is not None:
                    lines.append(LineItem(sku, name, int(quantity), price))
        currency = text(item, "currency")
        raw_status = item.get("status")
        status = None
        try:
            status = OrderStatus(raw_status)
        except ValueError:
            problems.append(f"status {raw_status!r} unknown")
        created_at = text(item, "createdAt")
        expires = number(item, "expiresAt", "")
        key = text(item, "idempotencyKey")
        request_hash = text(item, "requestHash")
        processed_at = text(item, "processedAt", required=False)
        notified_at = text(item, "notifiedAt", required=False)
        if problems:
            raise InvalidOrder(problems)
        order = cls(
            order_id=order_id,  # type: ignore[arg-type]
            customer=customer,  # type: ignore[arg-type]
            items=tuple(lines),
            currency=currency,  # type: ignore[arg-type]
            status=status,  # type: ignore[arg-type]
            created_at=created_at,  # type: ignore[arg-type]
            expires_at=int(expires),  # type: ignore[arg-type]
            idempotency_key=key,  # type: ignore[arg-type]
            request_hash=request_hash,  # type: ignore[arg-type]
            processed_at=processed_at,
            notified_at=notified_at,
        )
        stored_total = item.get("total")
        if stored_total is not None and Decimal(str(stored_total)) != order.total:
            raise InvalidOrder([f"total {stored_total} does not match the items ({order.total})"])
        return order

"""Orders in DynamoDB: conditional writes carry the domain's invariants.

* ``create`` puts only if the ``orderId`` is new (``attribute_not_exists``);
  the id derives from the idempotency key, so duplicates collapse to one item
  even when they race.
* ``complete`` moves ``NEW`` -> ``PROCESSED`` (with ``processedAt`` and
  ``notifiedAt``) only while the stored status is ``NEW``; a failed condition is
  an outcome (already processed, or gone).
* ``statuses`` reads many orders' status in one consistent ``BatchGetItem``.
* Listing is a bounded, paginated scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from ..domain.model import Order, OrderStatus

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()
MAX_PAGE = 100
BATCH_GET_LIMIT = 100  # keys per BatchGetItem call
BATCH_GET_ROUNDS = 5  # calls for one request's unprocessed keys before giving up
_STATUS_BY_VALUE = {status.value: status for status in OrderStatus}


def to_attribute_map(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _SERIALIZER.serialize(value) for key, value in item.items()}


def from_attribute_map(image: dict[str, Any]) -> dict[str, Any]:
    return {key: _DESERIALIZER.deserialize(value) for key, value in image.items()}


def _condition_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class Transition(str, Enum):
    APPLIED = "applied"  # this call moved the order to PROCESSED
    ALREADY_DONE = "already_done"  # an earlier attempt did; nothing changed now
    MISSING = "missing"  # no such item (deleted, expired)


@dataclass(frozen=True)
class TransitionResult:
    outcome: Transition
    order: Order | None


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_key: dict[str, Any] | None


class OrderRepository:
    def __init__(self, client: Any, table_name: str):
        self._client = client
        self.table_name = table_name

    @property
    def client(self) -> Any:
        """The DynamoDB client, for reads this class does not offer (a full consistent scan)."""
        return self._client

    def create(self, order: Order) -> tuple[Order, bool]:
        """Write a new order; return ``(order, True)``, or the stored one and ``False``."""
        try:
            self._client.put_item(
                TableName=self.table_name,
                Item=to_attribute_map(order.to_item()),
                ConditionExpression="attribute_not_exists(orderId)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return order, True
        except ClientError as error:
            if not _condition_failed(error):
                raise
            old = error.response.get("Item")
            existing = Order.from_item(from_attribute_map(old)) if old else self.get(order.order_id)
            if existing is None:  # deleted between the two calls: extremely unlikely, but say so
                raise RuntimeError(f"order {order.order_id} vanished during an idempotent create") from error
            return existing, False

    def get_item(self, order_id: str) -> dict[str, Any] | None:
        response = self._client.get_item(TableName=self.table_name, Key={"orderId": {"S": order_id}}, ConsistentRead=True)
        return from_attribute_map(response["Item"]) if "Item" in response else None

    def get(self, order_id: str) -> Order | None:
        item = self.get_item(order_id)
        return Order.from_item(item) if item is not None else None

    def items(self, order_ids: list[str], attributes: tuple[str, ...]) -> dict[str, dict[str, Any]]:
        """``attributes`` of each stored item among ``order_ids``, by order id (ids with no item are
        left out): one consistent ``BatchGetItem`` per 100 ids, unprocessed keys asked again."""
        names = {f"#a{n}": name for n, name in enumerate(("orderId", *attributes))}
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(order_ids), BATCH_GET_LIMIT):
            request: dict[str, Any] = {
                self.table_name: {
                    "Keys": [{"orderId": {"S": order_id}} for order_id in order_ids[start : start + BATCH_GET_LIMIT]],
                    "ConsistentRead": True,
                    "ProjectionExpression": ", ".join(names),
                    "ExpressionAttributeNames": names,
                }
            }
            for _ in range(BATCH_GET_ROUNDS):
                response = self._client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table_name, []):
                    found[item["orderId"]["S"]] = from_attribute_map(item)
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
            else:
                raise RuntimeError(f"BatchGetItem left keys unprocessed after {BATCH_GET_ROUNDS} rounds")
        return found

    def statuses(self, order_ids: list[str]) -> dict[str, OrderStatus | None]:
        """The stored status of each order (None when the item is not an order's or is gone)."""
        stored = self.items(order_ids, ("status",))
        return {order_id: _STATUS_BY_VALUE.get(str(stored.get(order_id, {}).get("status", ""))) for order_id in order_ids}

    def complete(self, order_id: str, processed_at: str, notified_at: str) -> TransitionResult:
        """``NEW -> PROCESSED`` with both times, in one conditional write: the only state change."""
        try:
            response = self._client.update_item(
                TableName=self.table_name,
                Key={"orderId": {"S": order_id}},
                UpdateExpression="SET #status = :processed, processedAt = :processed_at, notifiedAt = :notified_at",
                ConditionExpression="#status = :new",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":processed": {"S": OrderStatus.PROCESSED.value},
                    ":new": {"S": OrderStatus.NEW.value},
                    ":processed_at": {"S": processed_at},
                    ":notified_at": {"S": notified_at},
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return TransitionResult(Transition.APPLIED, Order.from_item(from_attribute_map(response["Attributes"])))
        except ClientError as error:
            if not _condition_failed(error):
                raise
            old = error.response.get("Item")
            if not old:
                return TransitionResult(Transition.MISSING, None)
            return TransitionResult(Transition.ALREADY_DONE, Order.from_item(from_attribute_map(old)))

    def list_page(self, limit: int = 50, start_key: dict[str, Any] | None = None) -> Page:
        """One page of at most ``limit`` (<= 100) items, in table order."""
        options: dict[str, Any] = {"TableName": self.table_name, "Limit": max(1, min(limit, MAX_PAGE))}
        if start_key:
            options["ExclusiveStartKey"] = start_key
        response = self._client.scan(**options)
        return Page([from_attribute_map(i) for i in response.get("Items", [])], response.get("LastEvaluatedKey"))

    def list_items(self, max_items: int = 1000) -> list[dict[str, Any]]:
        """Up to ``max_items`` stored items (valid orders or not), following pages."""
        items: list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        while len(items) < max_items:
            page = self.list_page(min(MAX_PAGE, max_items - len(items)), start)
            items.extend(page.items)
            start = page.next_key
            if not start:
                break
        return items

"""CreateOrder: validate, derive the order, write it once, answer HTTP-style.

The same idempotency key always maps to the same ``orderId`` (UUIDv5), so the
conditional put turns any number of duplicates, concurrent or not, into one
write. Without a client key the key derives from the request's content.

Every answer about an order (201, 200, 409) is logged with the order id as a top-level
``orderId`` key, so one ``FilterLogEvents`` with ``{ $.orderId = "..." }`` finds the
invocations that touched it (``orders trace``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from ..domain import codec
from ..domain.clock import Clock, to_iso, utc_now
from ..domain.model import Order, OrderStatus
from ..domain.validation import FieldError, ValidationFailed, parse_body, validate_order_request

LOG = logging.getLogger(__name__)
ORDER_ID_NAMESPACE = uuid.UUID("6f1c2f47-2b55-4f0e-9a5e-0d7c8e9b3a41")
DEFAULT_TTL_DAYS = 7


class OrderWriter(Protocol):
    def create(self, order: Order) -> tuple[Order, bool]: ...


@dataclass(frozen=True)
class CreateOutcome:
    status_code: int
    order: Order | None = None
    errors: list[FieldError] = field(default_factory=list)
    key_order_id: str | None = None  # a 409: the order the reused idempotency key belongs to

    @property
    def order_id(self) -> str | None:
        """The order this answer is about (None for a 400: no order was derived)."""
        return self.order.order_id if self.order is not None else self.key_order_id

    def log_fields(self) -> dict[str, Any]:
        """The structured keys of the answer's log line: ``orderId`` whenever there is one."""
        fields: dict[str, Any] = {"status_code": self.status_code}
        if self.order_id:
            fields["orderId"] = self.order_id
        return fields

    @property
    def created(self) -> bool:
        return self.status_code == 201

    def body(self) -> dict[str, Any]:
        if self.order is not None and self.status_code in (200, 201):
            return {"created": self.created, "order": self.order.to_public()}
        message = "idempotency key already used for a different request" if self.status_code == 409 else "invalid request"
        return {"message": message, "errors": [error.to_dict() for error in self.errors]}


def order_id_for(idempotency_key: str) -> str:
    return str(uuid.uuid5(ORDER_ID_NAMESPACE, idempotency_key))


def create_order(payload: Any, repository: OrderWriter, clock: Clock = utc_now, ttl_days: int = DEFAULT_TTL_DAYS) -> CreateOutcome:
    try:
        request = validate_order_request(payload)
    except ValidationFailed as failure:
        return CreateOutcome(400, errors=failure.errors)
    request_hash = hashlib.sha256(request.canonical().encode()).hexdigest()
    key = request.idempotency_key or f"auto-{request_hash[:32]}"
    now = clock()
    order = Order(
        order_id=order_id_for(key),
        customer=request.customer,
        items=request.items,
        currency=request.currency,
        status=OrderStatus.NEW,
        created_at=to_iso(now),
        expires_at=int((now + timedelta(days=ttl_days)).timestamp()),
        idempotency_key=key,
        request_hash=request_hash,
    )
    stored, created = repository.create(order)
    if not created and stored.request_hash != request_hash:
        error = FieldError("idempotencyKey", "was already used for a different request")
        return CreateOutcome(409, errors=[error], key_order_id=stored.order_id)
    return CreateOutcome(201 if created else 200, order=stored)


def _is_proxy_event(event: dict[str, Any]) -> bool:
    return "body" in event and not ({"customer", "items"} & event.keys())


def request_payload(event: Any) -> Any:
    """The request inside a direct invoke or an API Gateway / Function URL proxy event."""
    if isinstance(event, dict) and _is_proxy_event(event):
        body = event.get("body")
        if event.get("isBase64Encoded") and isinstance(body, str):
            try:
                body = base64.b64decode(body, validate=True)
            except (binascii.Error, ValueError):
                raise ValidationFailed([FieldError("body", "is not valid base64")]) from None
        if not isinstance(body, (str, bytes)) and body is not None:
            raise ValidationFailed([FieldError("body", "must be a JSON string")])
        return parse_body(body)
    if isinstance(event, (str, bytes)):
        return parse_body(event)
    # A direct invoke arrives parsed: still enforce the size limit on its JSON form.
    parse_body(codec.canonical(event))
    return event


def http_response(status_code: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status_code, "headers": {"Content-Type": "application/json"}, "body": codec.dumps(body)}


def answer_create_event(event: Any, repository: OrderWriter, clock: Clock = utc_now, ttl_days: int = DEFAULT_TTL_DAYS) -> CreateOutcome:
    """What CreateOrder answers to ``event``, before it becomes an HTTP-style response."""
    try:
        payload = request_payload(event)
    except ValidationFailed as failure:
        return CreateOutcome(400, errors=failure.errors)
    return create_order(payload, repository, clock, ttl_days)


def handle_create_event(
    event: Any, repository: OrderWriter, clock: Clock = utc_now, ttl_days: int = DEFAULT_TTL_DAYS, log: Any = LOG
) -> dict[str, Any]:
    """Everything CreateOrder does, so the handler only wires its adapters; the answer is
    logged once, with the order's id as ``orderId``."""
    outcome = answer_create_event(event, repository, clock, ttl_days)
    log.info("create-order answered", extra=outcome.log_fields())
    return http_response(outcome.status_code, outcome.body())

"""Strict validation of a CreateOrder request, reporting every error by field path.

Hand-written rather than pydantic: the rules are few, the error paths must be
exact, and the CreateOrder cold start stays free of a compiled validation core.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from . import codec
from .model import Customer, LineItem

MAX_BODY_BYTES = 64 * 1024
MAX_ITEMS = 50
MAX_QUANTITY = 1_000
MAX_UNIT_PRICE = Decimal("100000.00")
MAX_NAME_LENGTH = 200
MAX_EMAIL_LENGTH = 254
# Currencies with two minor units: prices are checked to two decimals.
CURRENCIES = frozenset({"AUD", "CAD", "CHF", "CZK", "DKK", "EUR", "GBP", "NOK", "NZD", "PLN", "SEK", "USD"})

SKU = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
CUSTOMER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
# Deliberately simple: one @, a dotted domain, no spaces or control characters.
EMAIL = re.compile(r"[^@\s\x00-\x1f]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+")

REQUEST_FIELDS = frozenset({"customer", "items", "currency", "idempotencyKey"})
CUSTOMER_FIELDS = frozenset({"customerId", "name", "email"})
ITEM_FIELDS = frozenset({"sku", "name", "quantity", "unitPrice"})


@dataclass(frozen=True)
class FieldError:
    path: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.path, "message": self.message}


class ValidationFailed(ValueError):
    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(f"{e.path}: {e.message}" for e in errors))


@dataclass(frozen=True)
class OrderRequest:
    customer: Customer
    items: tuple[LineItem, ...]
    currency: str
    idempotency_key: str | None

    def canonical(self) -> str:
        """The request's content, stable across key order and number spelling."""
        return codec.canonical(
            {
                "customer": self.customer.to_item(),
                "items": [{**line.to_item(), "unitPrice": str(line.unit_price.quantize(Decimal("0.01")))} for line in self.items],
                "currency": self.currency,
            }
        )


def parse_body(raw: str | bytes | None) -> Any:
    """Decode a request body, refusing empty, oversized and malformed JSON."""
    if raw is None or (isinstance(raw, (str, bytes)) and not raw.strip()):
        raise ValidationFailed([FieldError("body", "is empty; send a JSON object")])
    size = len(raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw)
    if size > MAX_BODY_BYTES:
        raise ValidationFailed([FieldError("body", f"is {size} bytes; the limit is {MAX_BODY_BYTES}")])
    try:
        return codec.loads(raw)
    except (ValueError, RecursionError) as error:
        # json.JSONDecodeError and UnicodeDecodeError are ValueErrors.
        raise ValidationFailed([FieldError("body", f"is not valid JSON ({error.__class__.__name__})")]) from None


class _Collector:
    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, message))

    def unknown(self, value: dict[str, Any], allowed: frozenset[str], prefix: str) -> None:
        for key in sorted(set(value) - allowed, key=str):
            self.add(f"{prefix}{key}"[:120], "is not a known field")

    def text(self, value: Any, path: str, *, max_length: int = MAX_NAME_LENGTH, pattern: re.Pattern[str] | None = None) -> str | None:
        if not isinstance(value, str):
            self.add(path, "is required and must be a string" if value is None else f"must be a string, not {_kind(value)}")
            return None
        stripped = value.strip()
        if not stripped:
            self.add(path, "must not be blank")
        elif len(stripped) > max_length:
            self.add(path, f"is {len(stripped)} characters; the limit is {max_length}")
        elif any(ord(ch) < 32 for ch in stripped):
            self.add(path, "must not contain control characters")
        elif pattern is not None and not pattern.fullmatch(stripped):
            self.add(path, "has an invalid format")
        else:
            return stripped
        return None


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", bool: "a boolean", str: "a string"}.get(type(value), type(value).__name__)


def _quantity(value: Any, path: str, check: _Collector) -> int | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        check.add(path, "is required and must be an integer" if value is None else f"must be an integer, not {_kind(value)}")
        return None
    if isinstance(value, float) or (isinstance(value, Decimal) and value != value.to_integral_value()):
        check.add(path, "must be a whole number")
        return None
    if not 1 <= value <= MAX_QUANTITY:
        check.add(path, f"must be between 1 and {MAX_QUANTITY}")
        return None
    return int(value)


def _price(value: Any, path: str, check: _Collector) -> Decimal | None:
    # A direct invoke reaches the handler parsed by the Lambda runtime, so
    # numbers arrive as floats; str() gives their shortest exact spelling.
    if isinstance(value, float):
        value = str(value)
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        check.add(path, "is required and must be a decimal amount" if value is None else f"must be a decimal amount, not {_kind(value)}")
        return None
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        check.add(path, 'must be a decimal amount such as "9.99"')
        return None
    if not amount.is_finite():
        check.add(path, "must be finite")
    elif amount <= 0:
        check.add(path, "must be greater than 0")
    elif amount > MAX_UNIT_PRICE:
        check.add(path, f"must not exceed {MAX_UNIT_PRICE}")
    elif amount.as_tuple().exponent < -2:  # type: ignore[operator]
        check.add(path, "must have at most 2 decimal places")
    else:
        return amount.quantize(Decimal("0.01"))
    return None


def validate_order_request(payload: Any) -> OrderRequest:
    """Return the request as domain values, or raise ``ValidationFailed`` with every error."""
    check = _Collector()
    if not isinstance(payload, dict):
        raise ValidationFailed([FieldError("body", f"must be a JSON object, not {_kind(payload)}")])
    check.unknown(payload, REQUEST_FIELDS, "")

    customer = None
    raw_customer = payload.get("customer")
    if not isinstance(raw_customer, dict):
        check.add(
            "customer", "is required and must be an object" if raw_customer is None else f"must be an object, not {_kind(raw_customer)}"
        )
    else:
        check.unknown(raw_customer, CUSTOMER_FIELDS, "customer.")
        customer_id = check.text(raw_customer.get("customerId"), "customer.customerId", max_length=64, pattern=CUSTOMER_ID)
        name = check.text(raw_customer.get("name"), "customer.name")
        email = check.text(raw_customer.get("email"), "customer.email", max_length=MAX_EMAIL_LENGTH, pattern=EMAIL)
        if customer_id and name and email:
            customer = Customer(customer_id, name, email.lower())

    lines: list[LineItem] = []
    raw_items = payload.get("items")
    if not isinstance(raw_items, list):
        check.add("items", "is required and must be an array" if raw_items is None else f"must be an array, not {_kind(raw_items)}")
    elif not raw_items:
        check.add("items", "must contain at least one item")
    elif len(raw_items) > MAX_ITEMS:
        check.add("items", f"has {len(raw_items)} entries; the limit is {MAX_ITEMS}")
    else:
        skus: set[str] = set()
        for index, raw in enumerate(raw_items):
            path = f"items[{index}]"
            if not isinstance(raw, dict):
                check.add(path, f"must be an object, not {_kind(raw)}")
                continue
            check.unknown(raw, ITEM_FIELDS, f"{path}.")
            sku = check.text(raw.get("sku"), f"{path}.sku", max_length=64, pattern=SKU)
            name = check.text(raw.get("name"), f"{path}.name")
            quantity = _quantity(raw.get("quantity"), f"{path}.quantity", check)
            price = _price(raw.get("unitPrice"), f"{path}.unitPrice", check)
            if sku is not None and sku in skus:
                check.add(f"{path}.sku", f"{sku!r} appears more than once; combine the quantities")
            elif sku and name and quantity is not None and price is not None:
                skus.add(sku)
                lines.append(LineItem(sku, name, quantity, price))

    currency = None
    raw_currency = payload.get("currency")
    if not isinstance(raw_currency, str):
        check.add(
            "currency", "is required and must be a string" if raw_currency is None else f"must be a string, not {_kind(raw_currency)}"
        )
    elif raw_currency not in CURRENCIES:
        check.add("currency", f"must be one of {', '.join(sorted(CURRENCIES))}")
    else:
        currency = raw_currency

    key = None
    if payload.get("idempotencyKey") is not None:
        key = check.text(payload["idempotencyKey"], "idempotencyKey", max_length=128, pattern=IDEMPOTENCY_KEY)

    if check.errors:
        raise ValidationFailed(check.errors)
    return OrderRequest(customer=customer, items=tuple(lines), currency=currency, idempotency_key=key)  # type: ignore[arg-type]

"""Create orders through the CreateOrder function and read them back."""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..aws.repository import OrderRepository
from ..domain import codec

CATALOGUE = [
    ("NB-A5", "Notebook A5", "4.50"), ("PEN-BLK", "Black pen", "1.25"), ("INK-BLU", "Blue ink", "6.90"),
    ("MUG-01", "Mug", "9.99"), ("TAPE-19", "Tape", "2.10"), ("CLIP-50", "Paper clips", "0.85"),
]
NAMES = ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra", "Barbara Liskov", "Donald Knuth"]


@dataclass
class CreateResult:
    status_code: int
    body: dict[str, Any]
    request: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status_code in (200, 201)

    @property
    def order(self) -> dict[str, Any] | None:
        return self.body.get("order")

    @property
    def errors(self) -> list[dict[str, str]]:
        return self.body.get("errors", [])

    def summary(self) -> str:
        if self.ok and self.order:
            verb = "created" if self.status_code == 201 else "already existed"
            return f"order {self.order['orderId']} {verb}: {self.order['total']} {self.order['currency']}, status {self.order['status']}"
        lines = [f"rejected ({self.status_code}): {self.body.get('message', '')}"]
        lines += [f"  {e['field']}: {e['message']}" for e in self.errors]
        return "\n".join(lines)


class FunctionError(RuntimeError):
    pass


def invoke_create(lambda_client: Any, function_name: str, request: Any) -> CreateResult:
    """Call the deployed CreateOrder function, as a client would."""
    response = lambda_client.invoke(FunctionName=function_name, Payload=codec.dumps(request).encode())
    payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        raise FunctionError(f"{function_name} failed: {payload}")
    return CreateResult(payload["statusCode"], json.loads(payload["body"]), request if isinstance(request, dict) else {})


def build_request(customer_id: str, name: str, email: str, items: list[tuple[str, str, int, str]], currency: str = "EUR",
                  idempotency_key: str | None = None) -> dict[str, Any]:
    request: dict[str, Any] = {
        "customer": {"customerId": customer_id, "name": name, "email": email},
        "items": [{"sku": sku, "name": item, "quantity": qty, "unitPrice": price} for sku, item, qty, price in items],
        "currency": currency,
    }
    if idempotency_key:
        request["idempotencyKey"] = idempotency_key
    return request


def random_request(rng: random.Random, *, invalid: bool = False) -> dict[str, Any]:
    """A plausible order; with ``invalid`` one realistic client mistake."""
    name = rng.choice(NAMES)
    lines = rng.sample(CATALOGUE, rng.randint(1, 3))
    request = build_request(
        f"C-{rng.randint(1000, 9999)}", name, name.split()[0].lower() + "@example.com",
        [(sku, item, rng.randint(1, 5), price) for sku, item, price in lines], rng.choice(["EUR", "USD", "GBP"]),
        idempotency_key=f"bulk-{uuid.UUID(int=rng.getrandbits(128))}",
    )
    if invalid:
        mistake = rng.choice(["quantity", "price", "email", "currency", "items"])
        if mistake == "quantity":
            request["items"][0]["quantity"] = 0
        elif mistake == "price":
            request["items"][0]["unitPrice"] = "1.999"
        elif mistake == "email":
            request["customer"]["email"] = "not-an-email"
        elif mistake == "currency":
            request["currency"] = "XXX"
        else:
            request["items"] = []
    return request


@dataclass
class BulkReport:
    created: int = 0
    repeated: int = 0
    rejected: int = 0
    order_ids: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        rate = (self.created + self.repeated + self.rejected) / self.seconds if self.seconds else 0.0
        return {"created": self.created, "repeated": self.repeated, "rejected": self.rejected, "requests_per_s": round(rate, 1)}


def create_bulk(lambda_client: Any, function_name: str, count: int, *, rate_per_s: float = 20.0, invalid_share: float = 0.0,
                seed: int = 7, progress: Callable[[int], None] | None = None) -> BulkReport:
    """Send ``count`` requests at a steady rate; a share of them invalid on purpose."""
    rng = random.Random(seed)
    report = BulkReport()
    started = time.monotonic()
    for index in range(count):
        due = started + index / rate_per_s if rate_per_s > 0 else 0
        time.sleep(max(0.0, due - time.monotonic()))
        result = invoke_create(lambda_client, function_name, random_request(rng, invalid=rng.random() < invalid_share))
        if result.status_code == 201:
            report.created += 1
            report.order_ids.append(result.order["orderId"])  # type: ignore[index]
        elif result.ok:
            report.repeated += 1
        else:
            report.rejected += 1
        if progress:
            progress(1)
    report.seconds = time.monotonic() - started
    return report


ORDER_COLUMNS = ("orderId", "status", "currency", "total", "items", "createdAt", "processedAt", "notifiedAt")


def order_rows(repository: OrderRepository, limit: int = 50) -> list[dict[str, Any]]:
    """Latest orders first, one flat row each (no personal data); non-orders flagged."""
    rows = []
    for item in repository.list_items(max_items=max(limit * 4, 200)):
        lines = item.get("items") if isinstance(item.get("items"), list) else []
        rows.append({
            "orderId": str(item.get("orderId", "?")),
            "status": str(item.get("status", "INVALID")),
            "currency": item.get("currency", ""),
            "total": str(item.get("total", "")),
            "items": int(sum(Decimal(str(line.get("quantity", 0))) for line in lines if isinstance(line, dict))),
            "createdAt": item.get("createdAt", ""),
            "processedAt": item.get("processedAt", ""),
            "notifiedAt": item.get("notifiedAt", ""),
        })
    rows.sort(key=lambda row: row["createdAt"] or "", reverse=True)
    return rows[:limit]


def format_table(rows: list[dict[str, Any]], columns: tuple[str, ...] | None = None) -> str:
    """A plain text table for terminals (no pandas needed on the command line)."""
    if not rows:
        return "(none)"
    columns = columns or tuple(rows[0])
    cells = [[str(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    line = lambda values: "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(list(columns)), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def watch(fetch: Callable[[], list[dict[str, Any]]], interval_s: float = 1.0, rounds: int | None = None) -> Iterator[list[dict[str, Any]]]:
    """Yield fresh rows every ``interval_s`` (``rounds`` bounds it for tests)."""
    done = 0
    while rounds is None or done < rounds:
        yield fetch()
        done += 1
        if rounds is None or done < rounds:
            time.sleep(interval_s)

"""Create orders through the CreateOrder function and read them back."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from botocore.exceptions import BotoCoreError, ClientError

from ..aws.repository import OrderRepository
from ..domain import codec
from ..domain.percentiles import percentile

CATALOGUE = [
    ("NB-A5", "Notebook A5", "4.50"),
    ("PEN-BLK", "Black pen", "1.25"),
    ("INK-BLU", "Blue ink", "6.90"),
    ("MUG-01", "Mug", "9.99"),
    ("TAPE-19", "Tape", "2.10"),
    ("CLIP-50", "Paper clips", "0.85"),
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


def build_request(
    customer_id: str,
    name: str,
    email: str,
    items: list[tuple[str, str, int, str]],
    currency: str = "EUR",
    idempotency_key: str | None = None,
) -> dict[str, Any]:
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
        f"C-{rng.randint(1000, 9999)}",
        name,
        name.split()[0].lower() + "@example.com",
        [(sku, item, rng.randint(1, 5), price) for sku, item, price in lines],
        rng.choice(["EUR", "USD", "GBP"]),
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


THROTTLED = "TooManyRequestsException"  # Lambda's answer beyond a function's concurrency or the account's rate
OUTCOMES = ("created", "repeated", "rejected", "throttled", "errors")


@dataclass
class BulkReport:
    """What a bulk run got back, per outcome; ``create_bulk`` updates it live."""

    created: int = 0
    repeated: int = 0
    rejected: int = 0
    throttled: int = 0
    errors: int = 0
    order_ids: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    error_messages: list[str] = field(default_factory=list)
    seconds: float = 0.0

    KEEP_MESSAGES: ClassVar[int] = 5

    def counts(self) -> dict[str, int]:
        return {outcome: getattr(self, outcome) for outcome in OUTCOMES}

    @property
    def finished(self) -> int:
        return sum(self.counts().values())

    def latency_ms(self, share: float) -> float | None:
        """Invoke latency as the client saw it (its retries included) at percentile ``share`` (0..1),
        by the definition ``make bench`` also uses (``domain.percentiles``); None before any answer."""
        return percentile(self.latencies_ms, share) if self.latencies_ms else None

    def as_dict(self) -> dict[str, Any]:
        rate = self.finished / self.seconds if self.seconds else 0.0
        p50, p99 = self.latency_ms(0.5), self.latency_ms(0.99)
        return {
            **self.counts(),
            "requests_per_s": round(rate, 1),
            "latency_p50_ms": None if p50 is None else round(p50, 1),
            "latency_p99_ms": None if p99 is None else round(p99, 1),
        }

    def summary(self) -> str:
        """Every count, the rate and latency, then the first error messages."""
        report = self.as_dict()
        lines = [
            ", ".join(f"{outcome} {count}" for outcome, count in self.counts().items()),
            f"{report['requests_per_s']} requests/s, invoke latency p50 {report['latency_p50_ms']} ms, p99 {report['latency_p99_ms']} ms",
        ]
        lines += [f"  error: {message}" for message in self.error_messages]
        return "\n".join(lines)

    def add(self, outcome: str, latency_ms: float, order_id: str | None = None, message: str | None = None) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        self.latencies_ms.append(latency_ms)
        if order_id:
            self.order_ids.append(order_id)
        if message and len(self.error_messages) < self.KEEP_MESSAGES:
            self.error_messages.append(message)


def bulk_requests(count: int, invalid_share: float = 0.0, seed: int = 7) -> list[dict[str, Any]]:
    """All of a run's requests, drawn up front from one seed, so which requests are sent
    never depends on how many clients send them or in which order they finish."""
    rng = random.Random(seed)
    requests = []
    for _ in range(count):
        invalid = rng.random() < invalid_share
        requests.append(random_request(rng, invalid=invalid))
    return requests


def _invoke_outcome(lambda_client: Any, function_name: str, request: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """Send one request: (outcome, order id, error message). AWS and function failures are
    outcomes here, so a run keeps counting instead of losing what it already sent."""
    try:
        result = invoke_create(lambda_client, function_name, request)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == THROTTLED:
            return "throttled", None, None
        return "errors", None, str(error)
    except (BotoCoreError, FunctionError) as error:
        return "errors", None, f"{type(error).__name__}: {error}"
    if result.status_code == 201:
        return "created", (result.order or {}).get("orderId"), None
    if result.ok:
        return "repeated", None, None
    if 400 <= result.status_code < 500:
        return "rejected", None, None
    return "errors", None, f"status {result.status_code}: {result.body.get('message', result.body)}"


def create_bulk(
    lambda_client: Any,
    function_name: str,
    count: int,
    *,
    rate_per_s: float = 20.0,
    clients: int = 1,
    invalid_share: float = 0.0,
    seed: int = 7,
    progress: Callable[[int], None] | None = None,
    on_update: Callable[[BulkReport], None] | None = None,
    client_factory: Callable[[], Any] | None = None,
) -> BulkReport:
    """Send ``count`` requests from ``clients`` concurrent callers sharing one schedule
    (request i is due ``i / rate_per_s`` after the start; 0 = as fast as they can).

    A shared boto3 client is thread-safe; with ``client_factory`` each caller makes its
    own (its own connection and retry state, as separate clients have; ``lambda_client``
    may then be None). Each finished
    request calls ``on_update(report)`` (live counts) and then ``progress(1)``, from
    worker threads but one at a time.
    """
    if clients < 1:
        raise ValueError(f"clients must be at least 1, got {clients}")
    if lambda_client is None and client_factory is None:
        raise ValueError("a lambda client or a client factory is needed")
    requests = bulk_requests(count, invalid_share, seed)
    report = BulkReport()
    lock = threading.Lock()
    # Every caller's client is made before the clock starts, so making them does not
    # count against the schedule; each worker thread takes one for the whole run.
    spare = [client_factory() for _ in range(clients)] if client_factory else []
    own = threading.local()

    def send(request: dict[str, Any]) -> None:
        if client_factory and not hasattr(own, "client"):
            with lock:
                own.client = spare.pop()
        sent = time.perf_counter()
        outcome, order_id, message = _invoke_outcome(own.client if client_factory else lambda_client, function_name, request)
        latency_ms = (time.perf_counter() - sent) * 1000
        with lock:
            report.add(outcome, latency_ms, order_id, message)
            if on_update:
                on_update(report)
            if progress:
                progress(1)

    started = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=clients, thread_name_prefix="bulk")
    try:
        futures = []
        for index, request in enumerate(requests):
            if rate_per_s > 0:
                time.sleep(max(0.0, started + index / rate_per_s - time.monotonic()))
            futures.append(pool.submit(send, request))
        for future in futures:
            future.result()
    finally:  # Ctrl-C or a bug: drop what has not started, wait for what is in flight
        pool.shutdown(wait=True, cancel_futures=True)
    report.seconds = time.monotonic() - started
    return report


ORDER_COLUMNS = ("orderId", "status", "currency", "total", "items", "createdAt", "processedAt", "notifiedAt")


def order_rows(repository: OrderRepository, limit: int = 50) -> list[dict[str, Any]]:
    """Latest orders first, one flat row each (no personal data); non-orders flagged."""
    rows = []
    for item in repository.list_items(max_items=max(limit * 4, 200)):
        listed = item.get("items")
        lines = listed if isinstance(listed, list) else []
        rows.append(
            {
                "orderId": str(item.get("orderId", "?")),
                "status": str(item.get("status", "INVALID")),
                "currency": item.get("currency", ""),
                "total": str(item.get("total", "")),
                "items": int(sum((Decimal(str(line.get("quantity", 0))) for line in lines if isinstance(line, dict)), Decimal(0))),
                "createdAt": item.get("createdAt", ""),
                "processedAt": item.get("processedAt", ""),
                "notifiedAt": item.get("notifiedAt", ""),
            }
        )
    rows.sort(key=lambda row: row["createdAt"] or "", reverse=True)
    return rows[:limit]


def format_table(rows: list[dict[str, Any]], columns: tuple[str, ...] | None = None) -> str:
    """A plain text table for terminals (no pandas needed on the command line)."""
    if not rows:
        return "(none)"
    columns = columns or tuple(rows[0])
    cells = [[str(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    line = lambda values: "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()
    return "\n".join([line(list(columns)), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def watch(fetch: Callable[[], list[dict[str, Any]]], interval_s: float = 1.0, rounds: int | None = None) -> Iterator[list[dict[str, Any]]]:
    """Yield fresh rows every ``interval_s`` (``rounds`` bounds it for tests)."""
    done = 0
    while rounds is None or done < rounds:
        yield fetch()
        done += 1
        if rounds is None or done < rounds:
            time.sleep(interval_s)


@dataclass(frozen=True)
class Journey:
    """Where one order is on its way: created (NEW), PROCESSED, notified, with the stored times."""

    order_id: str
    status: str
    created_at: str = ""
    processed_at: str = ""
    notified_at: str = ""

    @classmethod
    def of(cls, order_id: str, item: dict[str, Any] | None) -> Journey:
        if item is None:
            return cls(order_id, "MISSING")
        return cls(
            order_id, str(item.get("status", "INVALID")), item.get("createdAt", ""), item.get("processedAt", ""), item.get("notifiedAt", "")
        )

    @property
    def final(self) -> bool:
        """Nothing more will happen to it: notified, or gone."""
        return bool(self.notified_at) or self.status == "MISSING"

    def steps(self) -> list[tuple[str, str]]:
        """(stage, time) for each stage reached, in order."""
        if self.status == "MISSING":
            return [("not in the table", "")]
        reached = [("NEW", self.created_at)]
        if self.status == "PROCESSED" or self.processed_at:
            reached.append(("PROCESSED", self.processed_at))
        if self.notified_at:
            reached.append(("notified", self.notified_at))
        return reached

    def summary(self) -> str:
        return " → ".join(f"{stage} {at[11:23]}".strip() for stage, at in self.steps())

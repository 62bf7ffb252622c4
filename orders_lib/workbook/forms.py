"""ipywidgets forms for 02_create_orders. Each button calls the same method a
papermill run calls directly, so what CI runs is what a person clicks."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import ipywidgets as w
from IPython.display import display

from ..domain.validation import CURRENCIES
from ..ops.orders import BulkReport, CreateResult, Journey, build_request, create_bulk
from ..ops.trace import Trace
from .bench import Workbench
from .trace_view import TracePanel


def show_text(output: w.Output, text: str) -> None:
    """Replace what an Output widget shows. Setting its state (rather than
    printing inside ``with output:``) keeps the text out of the cell's own
    outputs when no browser is attached (papermill, nbval)."""
    output.outputs = ()
    output.append_stdout(text + "\n")


class ItemRow:
    def __init__(self, sku: str = "", name: str = "", quantity: int = 1, price: str = "") -> None:
        self.sku = w.Text(value=sku, placeholder="SKU", layout=w.Layout(width="120px"))
        self.name = w.Text(value=name, placeholder="item name", layout=w.Layout(width="200px"))
        self.quantity = w.BoundedIntText(value=quantity, min=0, max=100_000, layout=w.Layout(width="90px"))
        self.price = w.Text(value=price, placeholder="unit price", layout=w.Layout(width="110px"))
        self.remove = w.Button(description="Remove", layout=w.Layout(width="90px"))
        self.box = w.HBox([self.sku, self.name, self.quantity, self.price, self.remove])

    def value(self) -> tuple[str, str, int, str]:
        return (self.sku.value, self.name.value, self.quantity.value, self.price.value)


FOLLOW_S = 60.0  # how long the form follows an order on its way (AWS: seconds; the sandbox: milliseconds)
FOLLOW_EVERY_S = 0.25


class OrderForm:
    """Customer, item rows (add/remove), currency, Create; shows the result or every error, then
    follows the new order as it moves (NEW -> PROCESSED -> notified) from a background thread,
    so the kernel stays free and the latest-orders table refreshes as the status changes.
    **Trace** (once an order is created) shows its timeline from the logs, the table, the
    stream and the DLQ, as ``orders trace`` prints it."""

    def __init__(self, bench: Workbench, report_dir: Path | None = None) -> None:
        self.bench = bench
        self.customer_id = w.Text(value="C-1001", description="Customer id")
        self.name = w.Text(value="Ada Lovelace", description="Name")
        self.email = w.Text(value="ada@example.com", description="Email")
        self.currency = w.Dropdown(options=sorted(CURRENCIES), value="EUR", description="Currency")
        self.key = w.Text(value="", description="Idem. key", placeholder="optional")
        self.rows: list[ItemRow] = []
        self.items_box = w.VBox()
        self.add_button = w.Button(description="Add item", icon="plus")
        self.create_button = w.Button(description="Create", button_style="primary", icon="check")
        self.trace_button = w.Button(description="Trace", icon="search", disabled=True, tooltip="the order's timeline")
        self.tracer = TracePanel(bench, report_dir=report_dir)
        self.output = w.Output()
        self.latest = w.HTML()
        self.journey = w.HTML()
        self.last_result: CreateResult | None = None
        self.last_journey: Journey | None = None
        self._follower: threading.Thread | None = None
        self._stop_following = threading.Event()
        self.add_button.on_click(lambda _: self.add_item())
        self.create_button.on_click(lambda _: self.submit())
        self.trace_button.on_click(lambda _: self.trace())
        self.add_item("NB-A5", "Notebook A5", 2, "4.50")

    def add_item(self, sku: str = "", name: str = "", quantity: int = 1, price: str = "") -> ItemRow:
        row = ItemRow(sku, name, quantity, price)
        row.remove.on_click(lambda _: self.remove_item(row))
        self.rows.append(row)
        self.items_box.children = [r.box for r in self.rows]
        return row

    def remove_item(self, row: ItemRow) -> None:
        self.rows.remove(row)
        self.items_box.children = [r.box for r in self.rows]

    def fill(self, request: dict[str, Any]) -> None:
        """Put a request into the form (papermill runs and tests use this, then click Create)."""
        customer = request.get("customer", {})
        self.customer_id.value, self.name.value, self.email.value = (
            customer.get("customerId", ""),
            customer.get("name", ""),
            customer.get("email", ""),
        )
        self.currency.value = request.get("currency", "EUR") if request.get("currency") in CURRENCIES else "EUR"
        self.key.value = request.get("idempotencyKey", "")
        for row in list(self.rows):
            self.remove_item(row)
        for item in request.get("items", []):
            self.add_item(item["sku"], item["name"], int(item["quantity"]), str(item["unitPrice"]))

    def request(self) -> dict[str, Any]:
        return build_request(
            self.customer_id.value,
            self.name.value,
            self.email.value,
            [r.value() for r in self.rows],
            self.currency.value,
            self.key.value.strip() or None,
        )

    def submit(self) -> CreateResult:
        self.last_result = self.bench.create(self.request())
        show_text(self.output, self.last_result.summary())
        self.refresh_latest()
        order = self.last_result.order if self.last_result.ok else None
        self.trace_button.disabled = not order
        if order:
            self.follow(order["orderId"])
        else:
            self.stop_following()
            self.journey.value = ""
        return self.last_result

    def follow(self, order_id: str, timeout_s: float = FOLLOW_S) -> None:
        """Watch ``order_id`` until it is notified (or ``timeout_s``), updating the widgets as it moves."""
        self.stop_following()
        self._stop_following = stop = threading.Event()
        self._follower = threading.Thread(
            target=self._watch, args=(order_id, time.monotonic() + timeout_s, stop), name=f"follow-{order_id[:8]}", daemon=True
        )
        self._follower.start()

    def _watch(self, order_id: str, deadline: float, stop: threading.Event) -> None:
        shown = None
        while not stop.is_set():
            journey = Journey.of(order_id, self.bench.repository.get_item(order_id))
            if journey != shown:
                shown = self.last_journey = journey
                self.journey.value = f'<span class="order-journey"><b>{order_id}</b>: {journey.summary()}</span>'
                self.refresh_latest()
            if journey.final or time.monotonic() >= deadline or stop.wait(FOLLOW_EVERY_S):
                return

    def trace(self, chart_label: str | None = None) -> Trace:
        """The last created order's timeline, shown under the form (the **Trace** button)."""
        if not (self.last_result and self.last_result.order):
            raise ValueError("create an order first: there is nothing to trace")
        return self.tracer.show_trace(self.last_result.order["orderId"], chart_label)

    def stop_following(self) -> None:
        self._stop_following.set()
        if self._follower is not None and self._follower is not threading.current_thread():
            self._follower.join(timeout=5)
        self._follower = None

    def wait_final(self, timeout_s: float = FOLLOW_S) -> Journey | None:
        """Wait for the followed order's last state (an unattended run's way to see it arrive)."""
        if self._follower is not None:
            self._follower.join(timeout=timeout_s)
        return self.last_journey

    def refresh_latest(self, limit: int = 5) -> None:
        """The latest orders under the form, so a new one shows up with its status."""
        frame = self.bench.orders_frame(limit)[["orderId", "status", "total", "currency", "createdAt"]]
        self.latest.value = "<b>Latest orders</b>" + frame.to_html(index=False, classes="orders-latest")

    def widget(self) -> w.Widget:
        customer = w.VBox([self.customer_id, self.name, self.email, self.currency, self.key])
        items = w.VBox([w.HTML("<b>Items</b> (SKU, name, quantity, unit price)"), self.items_box, self.add_button])
        buttons = w.HBox([self.create_button, self.trace_button])
        return w.VBox([customer, items, buttons, self.output, self.journey, self.tracer.table, self.tracer.chart, self.latest])

    def show(self) -> None:
        display(self.widget())


class BulkForm:
    """Count, rate, concurrent clients and share of invalid requests; Run sends them with a
    progress bar and live counts (throttled requests included)."""

    def __init__(
        self, bench: Workbench, count: int = 50, rate: float = 20.0, invalid_share: float = 0.1, seed: int = 7, clients: int = 1
    ) -> None:
        self.bench, self.seed = bench, seed
        self.count = w.BoundedIntText(value=count, min=1, max=10_000, description="Orders")
        self.rate = w.BoundedFloatText(value=rate, min=0.5, max=500, description="Per second")
        self.clients = w.BoundedIntText(value=clients, min=1, max=500, description="Clients")
        self.invalid_share = w.FloatSlider(value=invalid_share, min=0, max=1, step=0.05, description="Invalid share")
        self.run_button = w.Button(description="Run", button_style="primary", icon="play")
        self.progress = w.IntProgress(value=0, min=0, max=count, description="Sent")
        self.counts = w.Label()
        self.output = w.Output()
        self.last_report: BulkReport | None = None
        self.run_button.on_click(lambda _: self.run())

    def run(self) -> BulkReport:
        self.progress.max, self.progress.value = self.count.value, 0
        self.show_counts(BulkReport())

        def advance(step: int) -> None:
            self.progress.value += step

        self.last_report = create_bulk(
            None,
            self.bench.outputs.create_function,
            self.count.value,
            rate_per_s=self.rate.value,
            clients=self.clients.value,
            invalid_share=self.invalid_share.value,
            seed=self.seed,
            progress=advance,
            on_update=self.show_counts,
            client_factory=lambda: self.bench.new_client("lambda"),
        )
        show_text(self.output, self.last_report.summary())
        return self.last_report

    def show_counts(self, report: BulkReport) -> None:
        """Live counts next to the bar (called from the run's worker threads)."""
        self.counts.value = " · ".join(f"{outcome} {count}" for outcome, count in report.counts().items())

    def widget(self) -> w.Widget:
        return w.VBox(
            [self.count, self.rate, self.clients, self.invalid_share, self.run_button, w.HBox([self.progress, self.counts]), self.output]
        )

    def show(self) -> None:
        display(self.widget())

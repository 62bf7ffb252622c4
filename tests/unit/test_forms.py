"""The widget forms build the same requests an unattended run sends, and show the outcome."""

from orders_lib.ops.orders import CreateResult, build_request
from orders_lib.workbook.forms import OrderForm


class FakeRepository:
    """The stored order as ProcessOrder moves it, one state per read."""

    def __init__(self, states):
        self.states, self.reads = list(states), 0

    def get_item(self, order_id):
        self.reads += 1
        return self.states.pop(0) if len(self.states) > 1 else self.states[0]


NEW = {"orderId": "o-1", "status": "NEW", "createdAt": "2026-11-27T09:00:00.100Z"}
DONE = {**NEW, "status": "PROCESSED", "processedAt": "2026-11-27T09:00:01.200Z", "notifiedAt": "2026-11-27T09:00:01.250Z"}


class FakeBench:
    def __init__(self, states=(NEW, NEW, DONE)):
        self.sent = []
        self.repository = FakeRepository(states)

    def create(self, request):
        self.sent.append(request)
        if request["items"] and request["customer"]["name"]:
            order = {"orderId": "o-1", "total": "7.50", "currency": request["currency"], "status": "NEW"}
            return CreateResult(201, {"created": True, "order": order})
        return CreateResult(400, {"message": "invalid request", "errors": [{"field": "customer.name", "message": "must not be blank"}]})

    def orders_frame(self, limit):
        import pandas as pd

        return pd.DataFrame([{"orderId": "o-1", "status": "NEW", "total": "7.50", "currency": "EUR", "createdAt": "t"}])


def test_clicking_create_sends_the_rows_and_shows_the_order():
    bench = FakeBench()
    form = OrderForm(bench)
    form.add_item("PEN", "Pen", 2, "1.50")
    form.rows[0].remove.click()  # the default notebook row goes
    form.key.value = "k-1"
    form.create_button.click()
    assert bench.sent == [build_request("C-1001", "Ada Lovelace", "ada@example.com", [("PEN", "Pen", 2, "1.50")], "EUR", "k-1")]
    assert form.last_result.summary() == "order o-1 created: 7.50 EUR, status NEW"
    assert form.output.outputs[0]["text"] == "order o-1 created: 7.50 EUR, status NEW\n"
    assert "o-1" in form.latest.value


def test_fill_then_create_shows_every_error():
    bench = FakeBench()
    form = OrderForm(bench)
    form.fill(build_request("C-9", "", "x@example.com", [("A", "Thing", 3, "2.00")], "GBP"))
    assert [row.value() for row in form.rows] == [("A", "Thing", 3, "2.00")] and form.currency.value == "GBP"
    result = form.submit()
    assert result.status_code == 400
    assert "customer.name: must not be blank" in form.output.outputs[0]["text"]


def test_the_form_follows_the_new_order_until_it_is_notified():
    bench = FakeBench()
    form = OrderForm(bench)
    form.create_button.click()
    journey = form.wait_final(timeout_s=10)
    assert journey.final and [stage for stage, _ in journey.steps()] == ["NEW", "PROCESSED", "notified"]
    assert "o-1</b>: NEW 09:00:00.100 → PROCESSED 09:00:01.200 → notified 09:00:01.250" in form.journey.value
    assert bench.repository.reads >= 3


def test_a_rejected_request_is_not_followed():
    bench = FakeBench()
    form = OrderForm(bench)
    form.name.value = ""
    form.create_button.click()
    assert form.wait_final() is None and form.journey.value == "" and bench.repository.reads == 0

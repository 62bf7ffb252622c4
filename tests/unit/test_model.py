from decimal import Decimal

import pytest

from orders_lib.domain.clock import from_iso, to_iso
from orders_lib.domain.codec import dumps, loads
from orders_lib.domain.model import Customer, InvalidOrder, InvalidTransition, LineItem, Order, OrderStatus


def make_order(**changes):
    values = dict(
        order_id="o-1",
        customer=Customer("C-1", "Ada", "ada@example.com"),
        items=(LineItem("A", "Pen", 3, Decimal("1.10")), LineItem("B", "Ink", 1, Decimal("2.05"))),
        currency="EUR",
        status=OrderStatus.NEW,
        created_at="2026-11-26T12:00:00.000Z",
        expires_at=1795000000,
        idempotency_key="k",
        request_hash="h",
    )
    values.update(changes)
    return Order(**values)


def test_total_is_derived_from_the_items_in_exact_money():
    order = make_order()
    assert order.total == Decimal("5.35") and order.item_count == 4


def test_item_round_trip():
    order = make_order(processed_at="2026-11-26T12:00:01.000Z")
    assert Order.from_item(order.to_item()) == order


def test_new_moves_to_processed_once():
    processed = make_order().transition(OrderStatus.PROCESSED, "2026-11-26T12:00:01.000Z")
    assert processed.status is OrderStatus.PROCESSED and processed.processed_at == "2026-11-26T12:00:01.000Z"
    with pytest.raises(InvalidTransition):
        processed.transition(OrderStatus.PROCESSED, "later")


def test_from_item_lists_every_problem():
    with pytest.raises(InvalidOrder) as caught:
        Order.from_item({"orderId": "x", "status": "SHIPPED", "items": [{"sku": "A"}]})
    problems = caught.value.problems
    assert "status 'SHIPPED' unknown" in problems
    assert "customer missing or not a map" in problems
    assert "items[0].quantity missing or not a number" in problems
    assert "currency missing or not a string" in problems


def test_from_item_refuses_a_total_that_does_not_match():
    item = make_order().to_item() | {"total": Decimal("99.00")}
    with pytest.raises(InvalidOrder, match="does not match"):
        Order.from_item(item)


def test_from_item_refuses_non_maps():
    with pytest.raises(InvalidOrder, match="not a map"):
        Order.from_item(["x"])


def test_timestamps_are_utc_with_microseconds():
    moment = from_iso("2026-11-26T13:00:00.123456+01:00")
    assert to_iso(moment) == "2026-11-26T12:00:00.123456Z"
    assert from_iso("2026-11-26T12:00:00.123Z") == from_iso("2026-11-26T12:00:00.123000Z")  # stored ms still read
    with pytest.raises(ValueError, match="time zone"):
        from_iso("2026-11-26T12:00:00")


def test_codec_keeps_money_exact_and_integers_whole():
    assert dumps({"p": Decimal("2.50"), "q": Decimal("3"), "s": {1}}) == '{"p": "2.50", "q": 3, "s": [1]}'
    assert loads('{"p": 2.50}') == {"p": Decimal("2.50")}
    with pytest.raises(TypeError):
        dumps({"x": object()})

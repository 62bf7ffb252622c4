from decimal import Decimal

from orders_lib.aws.repository import Transition
from orders_lib.domain.model import OrderStatus
from orders_lib.pipeline.create import create_order

from .conftest import valid_request


def stored_count(repo):
    return len(repo.list_items(max_items=10_000))


def test_create_is_idempotent_for_the_same_key(repo, clock):
    first = create_order(valid_request(idempotencyKey="key-1"), repo, clock)
    second = create_order(valid_request(idempotencyKey="key-1"), repo, clock)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.order == first.order
    assert stored_count(repo) == 1


def test_without_a_key_the_request_content_is_the_key(repo, clock):
    a = create_order(valid_request(), repo, clock)
    b = create_order(valid_request(), repo, clock)
    c = create_order(valid_request(currency="USD"), repo, clock)
    assert a.order.order_id == b.order.order_id != c.order.order_id
    assert a.order.idempotency_key.startswith("auto-")
    assert stored_count(repo) == 2


def test_reusing_a_key_for_another_request_is_a_conflict(repo, clock):
    first = create_order(valid_request(idempotencyKey="key-1"), repo, clock)
    outcome = create_order(valid_request(idempotencyKey="key-1", currency="GBP"), repo, clock)
    assert outcome.status_code == 409
    assert [e.path for e in outcome.errors] == ["idempotencyKey"]
    assert repo.get(first.order.order_id).currency == "EUR"
    assert stored_count(repo) == 1


def test_created_order_carries_ttl_and_derived_total(repo, clock):
    order = create_order(valid_request(), repo, clock, ttl_days=7).order
    stored = repo.get_item(order.order_id)
    assert stored["status"] == "NEW"
    assert stored["total"] == Decimal("12.75")
    assert stored["expiresAt"] - 1795694400 == 7 * 86400  # 2026-11-26T12:00Z + 7 days
    assert stored["createdAt"] == "2026-11-26T12:00:00.000000Z"


def test_new_moves_to_processed_exactly_once_with_both_times(repo, clock):
    order = create_order(valid_request(), repo, clock).order
    first = repo.complete(order.order_id, "2026-11-26T12:00:01.000Z", "2026-11-26T12:00:01.020Z")
    second = repo.complete(order.order_id, "2026-11-26T12:00:02.000Z", "2026-11-26T12:00:02.020Z")
    assert first.outcome is Transition.APPLIED and first.order.status is OrderStatus.PROCESSED
    assert second.outcome is Transition.ALREADY_DONE and second.order.processed_at == "2026-11-26T12:00:01.000Z"
    stored = repo.get(order.order_id)
    assert (stored.processed_at, stored.notified_at) == ("2026-11-26T12:00:01.000Z", "2026-11-26T12:00:01.020Z")


def test_processing_a_missing_order_creates_nothing(repo):
    assert repo.complete("nope", "2026-11-26T12:00:01.000Z", "2026-11-26T12:00:01.000Z").outcome is Transition.MISSING
    assert repo.get_item("nope") is None


def test_statuses_reads_many_orders_at_once(repo, clock, dynamodb):
    new = create_order(valid_request(idempotencyKey="s1"), repo, clock).order
    done = create_order(valid_request(idempotencyKey="s2"), repo, clock).order
    repo.complete(done.order_id, "2026-11-26T12:00:01.000Z", "2026-11-26T12:00:01.000Z")
    dynamodb.put_item(TableName=repo.table_name, Item={"orderId": {"S": "odd"}, "status": {"S": "SHIPPED"}})
    assert repo.statuses([new.order_id, done.order_id, "gone", "odd"]) == {
        new.order_id: OrderStatus.NEW,
        done.order_id: OrderStatus.PROCESSED,
        "gone": None,
        "odd": None,
    }


def test_statuses_asks_again_for_unprocessed_keys(repo, clock):
    order = create_order(valid_request(idempotencyKey="u1"), repo, clock).order
    real = repo.client

    class Throttled:
        calls = 0

        def batch_get_item(self, RequestItems):
            Throttled.calls += 1
            if Throttled.calls == 1:
                return {"Responses": {}, "UnprocessedKeys": RequestItems}
            return real.batch_get_item(RequestItems=RequestItems)

    repo._client = Throttled()
    assert repo.statuses([order.order_id]) == {order.order_id: OrderStatus.NEW} and Throttled.calls == 2


def test_listing_is_paginated_and_bounded(repo, clock):
    for n in range(7):
        create_order(valid_request(idempotencyKey=f"k{n}"), repo, clock)
    page = repo.list_page(limit=3)
    assert len(page.items) == 3 and page.next_key
    assert len(repo.list_items(max_items=5)) == 5
    assert len(repo.list_items(max_items=100)) == 7
    assert len(repo.list_page(limit=10_000).items) == 7  # limit is capped, not refused


def test_items_are_read_by_key_with_only_the_attributes_asked_for(repo, clock):
    order = create_order(valid_request(), repo, clock).order
    found = repo.items([order.order_id, "gone"], ("status", "createdAt"))
    assert found == {order.order_id: {"orderId": order.order_id, "status": "NEW", "createdAt": "2026-11-26T12:00:00.000000Z"}}

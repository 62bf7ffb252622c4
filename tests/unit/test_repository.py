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
    assert stored["createdAt"] == "2026-11-26T12:00:00.000Z"


def test_new_moves_to_processed_exactly_once(repo, clock):
    order = create_order(valid_request(), repo, clock).order
    first = repo.mark_processed(order.order_id, "2026-11-26T12:00:01.000Z")
    second = repo.mark_processed(order.order_id, "2026-11-26T12:00:02.000Z")
    assert first.outcome is Transition.APPLIED and first.order.status is OrderStatus.PROCESSED
    assert second.outcome is Transition.ALREADY_DONE
    assert repo.get(order.order_id).processed_at == "2026-11-26T12:00:01.000Z"


def test_processing_a_missing_order_creates_nothing(repo):
    assert repo.mark_processed("nope", "2026-11-26T12:00:01.000Z").outcome is Transition.MISSING
    assert repo.get_item("nope") is None


def test_notified_at_keeps_the_first_time(repo, clock):
    order = create_order(valid_request(), repo, clock).order
    repo.mark_notified(order.order_id, "2026-11-26T12:00:03.000Z")
    repo.mark_notified(order.order_id, "2026-11-26T12:00:09.000Z")
    repo.mark_notified("gone", "2026-11-26T12:00:09.000Z")
    assert repo.get(order.order_id).notified_at == "2026-11-26T12:00:03.000Z"
    assert repo.get_item("gone") is None


def test_listing_is_paginated_and_bounded(repo, clock):
    for n in range(7):
        create_order(valid_request(idempotencyKey=f"k{n}"), repo, clock)
    page = repo.list_page(limit=3)
    assert len(page.items) == 3 and page.next_key
    assert len(repo.list_items(max_items=5)) == 5
    assert len(repo.list_items(max_items=100)) == 7
    assert len(repo.list_page(limit=10_000).items) == 7  # limit is capped, not refused

"""Property tests: hostile requests never write and never raise; notifications never leak."""

import json
import string
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders_lib.domain.model import Customer, LineItem, Order, OrderStatus
from orders_lib.domain.notification import BODY_KEYS, build_notification
from orders_lib.pipeline.create import handle_create_event

from .conftest import valid_request


class CountingRepo:
    """Counts writes: for invalid input there must be none."""

    def __init__(self):
        self.writes = 0

    def create(self, order):
        self.writes += 1
        return order, True


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
# Mutate one part of a valid request into an arbitrary JSON value.
mutations = st.sampled_from(["customer", "items", "currency", "idempotencyKey", "extra"]).flatmap(
    lambda key: st.tuples(st.just(key), json_values)
)
quiet = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@quiet
@given(st.binary(max_size=300))
def test_raw_bytes_never_raise_and_never_write(body):
    repo = CountingRepo()
    response = handle_create_event({"body": body.decode("latin-1"), "requestContext": {}}, repo)
    assert response["statusCode"] in (200, 201, 400, 409)
    if response["statusCode"] == 400:
        assert repo.writes == 0 and json.loads(response["body"])["errors"]


@quiet
@given(json_values)
def test_arbitrary_json_never_raises_and_invalid_never_writes(payload):
    repo = CountingRepo()
    response = handle_create_event(payload, repo)
    assert response["statusCode"] == 400 and repo.writes == 0


@quiet
@given(mutations)
def test_a_broken_field_in_a_good_request_is_named_and_nothing_written(mutation):
    key, value = mutation
    payload = valid_request()
    payload[key] = value
    repo = CountingRepo()
    response = handle_create_event(payload, repo)
    body = json.loads(response["body"])
    if response["statusCode"] == 400:
        assert repo.writes == 0
        assert all(error["field"].split(".")[0].split("[")[0] in (key, "body") for error in body["errors"])
    else:  # e.g. a valid idempotency key, or a null optional key
        assert response["statusCode"] == 201 and repo.writes == 1


# "First Last": a full name always has a space, which no notification value has.
_word = st.text(alphabet=string.ascii_letters, min_size=1, max_size=12)
names = st.tuples(_word, _word).map(" ".join)


@quiet
@given(names, st.from_regex(r"[a-z]{3,10}@[a-z]{3,10}\.com", fullmatch=True), st.from_regex(r"CUST-[0-9]{6}", fullmatch=True))
def test_notification_body_never_carries_personal_data(name, email, customer_id):
    order = Order(
        order_id="o-1",
        customer=Customer(customer_id, name, email),
        items=(LineItem("A", "Pen", 1, Decimal("1.00")),),
        currency="EUR",
        status=OrderStatus.PROCESSED,
        created_at="2026-11-26T12:00:00.000Z",
        expires_at=1,
        idempotency_key="k",
        request_hash="h",
        processed_at="2026-11-26T12:00:00.100Z",
    )
    note = build_notification(order)
    assert set(note.body) <= BODY_KEYS
    wire = note.message + json.dumps(note.sns_attributes())
    leaves = {str(v) for v in note.body.values()} | set(note.attributes.values())
    assert name not in wire and all(" " not in leaf for leaf in leaves)
    assert email not in wire and "@" not in wire and customer_id not in wire

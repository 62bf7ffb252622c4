"""CreateOrder under generated hostile input: never an unhandled exception, never a
5xx for a client's mistake, nothing written unless the request is valid, oversize
bodies refused. With tests/unit/test_properties.py (900 requests) this file adds
1,000+ more; ``GENERATED`` counts what really ran and the last test checks it."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders_lib.domain.validation import MAX_BODY_BYTES
from orders_lib.pipeline.create import handle_create_event

from .events import api_gateway_event

GENERATED: Counter[str] = Counter()
CLIENT_ANSWERS = {200, 201, 400, 409}


class Table:
    """An in-memory table with the repository's conditional put."""

    def __init__(self):
        self.items = {}
        self.writes = 0

    def create(self, order):
        if order.order_id in self.items:
            return self.items[order.order_id], False
        self.writes += 1
        self.items[order.order_id] = order
        return order, True


def answer(event, table=None):
    table = table or Table()
    response = handle_create_event(event, table)
    assert response["statusCode"] in CLIENT_ANSWERS
    body = json.loads(response["body"])
    if response["statusCode"] == 400:
        assert table.writes == 0 and body["errors"] and all(e["field"] and e["message"] for e in body["errors"])
    return response["statusCode"], body, table


def fuzz(examples):
    return settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# Near-valid requests: every field drawn from values that are sometimes right, sometimes not.
texts = st.text(max_size=30) | st.sampled_from(["Ada Lovelace", " ", "", "x" * 201, "a\x00b"])
maybe = lambda good: good | st.none() | st.integers() | st.booleans() | st.lists(st.integers(), max_size=2)
emails = st.sampled_from(["ada@example.com", "ADA@Example.org", "no-at", "a@b", "a b@c.de", "@x.io"]) | st.emails()
prices = (
    st.sampled_from(["4.50", "0", "-1", "1.999", "100000.00", "100000.01", "NaN", "Infinity", "1e3", " 2.5 "])
    | st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str)
    | st.floats(allow_nan=True)
    | st.integers(-5, 10**6)
)
quantities = st.integers(-2, 1002) | st.floats(allow_nan=True) | st.sampled_from(["2", 2.0, 2.5, Decimal("3")])
items = st.fixed_dictionaries(
    {
        "sku": maybe(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,70}", fullmatch=True)),
        "name": maybe(texts),
        "quantity": quantities,
        "unitPrice": prices,
    },
    optional={"colour": st.text(max_size=5)},
)
requests = st.fixed_dictionaries(
    {
        "customer": maybe(
            st.fixed_dictionaries(
                {"customerId": maybe(st.from_regex(r"[A-Za-z0-9:_-]{1,70}", fullmatch=True)), "name": maybe(texts), "email": maybe(emails)}
            )
        ),
        "items": maybe(st.lists(items, max_size=52)),
        "currency": maybe(st.sampled_from(["EUR", "USD", "eur", "XXX", "JPY", ""])),
    },
    optional={"idempotencyKey": maybe(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,130}", fullmatch=True)), "admin": st.booleans()},
)


@fuzz(400)
@given(requests, st.sampled_from(["direct", "proxy", "function-url"]))
def test_near_valid_requests_either_write_one_order_or_name_every_problem(request, shape):
    GENERATED["structured"] += 1
    text = json.dumps(request, default=str)
    event = request if shape == "direct" else api_gateway_event(text) if shape == "proxy" else {"version": "2.0", "body": text}
    status, body, table = answer(event)
    if status == 201:
        assert table.writes == 1 and body["order"]["status"] == "NEW"
        again, _, _ = answer(event, table)
        assert again == 200 and table.writes == 1  # the same request again writes nothing


@fuzz(300)
@given(st.binary(max_size=400))
def test_raw_bytes_in_a_base64_proxy_body_are_refused_without_a_write(raw):
    GENERATED["raw-base64"] += 1
    status, _, _ = answer(api_gateway_event(raw, base64_encoded=True))
    assert status == 400


@fuzz(200)
@given(st.binary(max_size=400) | st.text(max_size=200).map(str.encode))
def test_raw_bytes_sent_as_a_direct_payload_are_refused_without_a_write(raw):
    GENERATED["raw-direct"] += 1
    status, _, _ = answer(raw)
    assert status == 400


@fuzz(80)
@given(st.integers(MAX_BODY_BYTES + 1, 4 * MAX_BODY_BYTES), st.sampled_from(["name", "padding", "items"]), st.booleans())
def test_oversize_bodies_are_refused_before_parsing(size, where, as_proxy):
    GENERATED["oversize"] += 1
    request = {
        "customer": {"customerId": "C-1", "name": "Ada", "email": "ada@example.com"},
        "items": [{"sku": "A", "name": "Pen", "quantity": 1, "unitPrice": "1.00"}],
        "currency": "EUR",
    }
    if where == "name":
        request["customer"]["name"] = "x" * size
    elif where == "padding":
        request["items"][0]["name"] = "Pen" + " " * size
    else:
        request["items"] = request["items"] * (size // 40)  # ~57 bytes each: well over the limit
    event = api_gateway_event(json.dumps(request)) if as_proxy else request
    status, body, _ = answer(event)
    assert status == 400 and body["errors"][0]["field"] == "body" and "limit" in body["errors"][0]["message"]


@fuzz(100)
@given(st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=40))
def test_odd_unicode_in_text_fields_never_breaks_the_answer(name):
    GENERATED["unicode"] += 1
    request = {
        "customer": {"customerId": "C-1", "name": name, "email": "ada@example.com"},
        "items": [{"sku": "A", "name": name, "quantity": 1, "unitPrice": "1.00"}],
        "currency": "EUR",
    }
    answer(api_gateway_event(json.dumps(request)))


@pytest.mark.parametrize("body", ["\ud800", '{"a": "\\ud800"}', "[" * 5000 + "]" * 5000, "1" * 5000, '{"customer": NaN}'])
def test_pathological_json_is_a_400(body):
    status, _, _ = answer(api_gateway_event(body))
    assert status == 400


def test_zz_the_suite_generated_at_least_1000_createorder_requests(request):
    """Counts the examples that ran in this module (when it runs whole)."""
    names = {
        item.name
        for item in request.session.items
        if item.module is request.module and item.name.startswith("test_") and "zz" not in item.name and "pathological" not in item.name
    }
    if len(GENERATED) < len(names):
        pytest.skip("only part of the module ran")
    assert sum(GENERATED.values()) >= 1000, GENERATED
    assert GENERATED["raw-base64"] + GENERATED["raw-direct"] >= 300 and GENERATED["structured"] >= 300

from decimal import Decimal

import pytest

from orders_lib.domain.validation import (
    MAX_BODY_BYTES,
    MAX_ITEMS,
    ValidationFailed,
    parse_body,
    validate_order_request,
)

from .conftest import valid_request


def errors_of(payload):
    with pytest.raises(ValidationFailed) as caught:
        validate_order_request(payload)
    return {error.path: error.message for error in caught.value.errors}


def test_valid_request_becomes_domain_values():
    request = validate_order_request(valid_request(idempotencyKey="k-1"))
    assert request.customer.email == "ada@example.com"
    assert [line.unit_price for line in request.items] == [Decimal("4.50"), Decimal("1.25")]
    assert request.currency == "EUR" and request.idempotency_key == "k-1"


def test_every_invalid_field_is_reported_at_once_by_path():
    payload = {
        "customer": {"customerId": "", "name": 7, "email": "not-an-email"},
        "items": [{"sku": "S 1", "name": "x", "quantity": 0, "unitPrice": "1.999"}, "oops"],
        "currency": "XYZ",
        "colour": "red",
    }
    assert errors_of(payload) == {
        "colour": "is not a known field",
        "customer.customerId": "must not be blank",
        "customer.name": "must be a string, not int",
        "customer.email": "has an invalid format",
        "items[0].sku": "has an invalid format",
        "items[0].quantity": "must be between 1 and 1000",
        "items[0].unitPrice": "must have at most 2 decimal places",
        "items[1]": "must be an object, not a string",
        "currency": "must be one of AUD, CAD, CHF, CZK, DKK, EUR, GBP, NOK, NZD, PLN, SEK, USD",
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("quantity", True, "must be an integer, not a boolean"),
        ("quantity", Decimal("1.5"), "must be a whole number"),
        ("quantity", "2", "must be an integer, not a string"),
        ("unitPrice", "-1.00", "must be greater than 0"),
        ("unitPrice", "0", "must be greater than 0"),
        ("unitPrice", "100000.01", "must not exceed 100000.00"),
        ("unitPrice", "abc", 'must be a decimal amount such as "9.99"'),
        ("unitPrice", "NaN", "must be finite"),
        ("unitPrice", None, "is required and must be a decimal amount"),
    ],
)
def test_item_number_rules(field, value, message):
    item = {"sku": "SKU-1", "name": "Pen", "quantity": 1, "unitPrice": "1.00", field: value}
    assert errors_of(valid_request(items=[item])) == {f"items[0].{field}": message}


def test_item_count_limits():
    assert errors_of(valid_request(items=[])) == {"items": "must contain at least one item"}
    many = [{"sku": f"S{i}", "name": "n", "quantity": 1, "unitPrice": "1"} for i in range(MAX_ITEMS + 1)]
    assert errors_of(valid_request(items=many)) == {"items": f"has {MAX_ITEMS + 1} entries; the limit is {MAX_ITEMS}"}


def test_duplicate_skus_are_refused():
    line = {"sku": "SKU-1", "name": "Pen", "quantity": 1, "unitPrice": "1.00"}
    assert errors_of(valid_request(items=[line, line])) == {"items[1].sku": "'SKU-1' appears more than once; combine the quantities"}


def test_string_lengths_and_control_characters():
    customer = {"customerId": "C-1", "name": "x" * 201, "email": "a\x01@example.com"}
    errors = errors_of(valid_request(customer=customer))
    assert errors == {"customer.name": "is 201 characters; the limit is 200", "customer.email": "must not contain control characters"}


def test_non_object_body_and_missing_sections():
    assert errors_of([1, 2]) == {"body": "must be a JSON object, not an array"}
    assert errors_of({}) == {
        "customer": "is required and must be an object",
        "items": "is required and must be an array",
        "currency": "is required and must be a string",
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "is empty; send a JSON object"),
        ("   ", "is empty; send a JSON object"),
        (None, "is empty; send a JSON object"),
        ("{not json", "is not valid JSON (JSONDecodeError)"),
        (b"\xff\xfe\x00", "is not valid JSON (UnicodeDecodeError)"),
        ('{"a": NaN}', "is not valid JSON (ValueError)"),
        ("[" * 100_000 + "]" * 100_000, f"is 200000 bytes; the limit is {MAX_BODY_BYTES}"),
    ],
)
def test_bad_bodies_are_refused_with_a_reason(raw, message):
    with pytest.raises(ValidationFailed) as caught:
        parse_body(raw)
    assert [(e.path, e.message) for e in caught.value.errors] == [("body", message)]


def test_json_numbers_stay_exact():
    assert parse_body('{"p": 0.10}') == {"p": Decimal("0.10")}


def test_canonical_form_ignores_key_order_and_price_spelling():
    a = validate_order_request(valid_request())
    b = validate_order_request(
        {
            "currency": "EUR",
            "items": [
                {"unitPrice": Decimal("4.5"), "quantity": 2, "name": "Notebook", "sku": "SKU-1"},
                {"sku": "SKU-2", "name": "Pen", "quantity": 3, "unitPrice": 1.25},
            ],
            "customer": {"email": "ADA@example.com", "name": "Ada Lovelace", "customerId": "C-1001"},
        }
    )
    assert a.canonical() == b.canonical()

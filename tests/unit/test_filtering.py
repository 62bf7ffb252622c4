"""Lambda event filtering as the sandbox's mappings apply and check it, operator by operator as
https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html lists them."""

from __future__ import annotations

import json

import pytest

from orders_lib.sandbox.lambda_.event_source_mapping.filtering import (
    MAX_FILTERS,
    MAX_PATTERN_CHARS,
    InvalidFilterCriteria,
    matches,
    passes,
    validate_filter_criteria,
)

from .events import stream_record

DDB_IMAGE = {
    "dynamodb": {
        "Keys": {"UserID": {"S": "12345"}},
        "NewImage": {
            "UserID": {"S": "12345"},
            "Name": {"S": "John Doe"},
            "Organizations": {"L": [{"S": "Sales"}, {"S": "Marketing"}]},
            "Count": {"N": "42"},
        },
        "SizeBytes": 26,
    }
}

NEW_STATUS = {"dynamodb": {"NewImage": {"status": {"S": ["NEW"]}}}}
HIGH_PRIORITY = {"dynamodb": {"NewImage": {"priority": {"S": ["high"]}}}}
NESTED_OR = {"dynamodb": {"NewImage": {"$or": [{"status": {"S": ["NEW"]}}, {"priority": {"S": ["high"]}}]}}}

# (operator, pattern, record, matches?)
MATCHING = [
    ("null", {"UserID": [None]}, {"UserID": None}, True),
    ("null", {"UserID": [None]}, {"UserID": "u-1"}, False),
    ("null", {"UserID": [None]}, {}, False),
    ("empty", {"LastName": [""]}, {"LastName": ""}, True),
    ("empty", {"LastName": [""]}, {"LastName": "Doe"}, False),
    ("equals", {"Name": ["Alice"]}, {"Name": "Alice"}, True),
    ("equals", {"Name": ["Alice"]}, {"Name": "alice"}, False),
    ("equals", {"Name": ["Alice"]}, {}, False),
    ("equals a number", {"Price": [100]}, {"Price": 100}, True),
    ("equals a number", {"Price": [100]}, {"Price": "100"}, False),
    ("equals a number", {"Price": [300]}, {"Price": 300.0}, False),
    ("equals true", {"Paid": [True]}, {"Paid": True}, True),
    ("equals true", {"Paid": [True]}, {"Paid": 1}, False),
    ("equals-ignore-case", {"Name": [{"equals-ignore-case": "alice"}]}, {"Name": "ALICE"}, True),
    ("equals-ignore-case", {"Name": [{"equals-ignore-case": "alice"}]}, {"Name": "Alicia"}, False),
    ("and", {"Location": ["New York"], "Day": ["Monday"]}, {"Location": "New York", "Day": "Monday"}, True),
    ("and", {"Location": ["New York"], "Day": ["Monday"]}, {"Location": "New York", "Day": "Friday"}, False),
    ("or", {"PaymentType": ["Credit", "Debit"]}, {"PaymentType": "Debit"}, True),
    ("or", {"PaymentType": ["Credit", "Debit"]}, {"PaymentType": "Cash"}, False),
    ("$or", {"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}, {"Location": "Paris", "Day": "Monday"}, True),
    ("$or", {"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}, {"Location": "New York"}, True),
    ("$or", {"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}, {"Location": "Paris", "Day": "Friday"}, False),
    (
        "$or and a field",
        {"eventName": ["INSERT"], "$or": [NEW_STATUS, HIGH_PRIORITY]},
        stream_record("INSERT", new={"status": "NEW"}),
        True,
    ),
    (
        "$or and a field",
        {"eventName": ["INSERT"], "$or": [NEW_STATUS, HIGH_PRIORITY]},
        stream_record("MODIFY", new={"status": "NEW"}),
        False,
    ),
    ("$or nested", NESTED_OR, stream_record("INSERT", new={"status": "DONE", "priority": "high"}), True),
    ("$or nested", NESTED_OR, stream_record("INSERT", new={"status": "DONE", "priority": "low"}), False),
    ("$or within $or", {"$or": [{"a": ["1"]}, {"$or": [{"b": ["2"]}, {"c": ["3"]}]}]}, {"c": "3"}, True),
    ("$or within $or", {"$or": [{"a": ["1"]}, {"$or": [{"b": ["2"]}, {"c": ["3"]}]}]}, {"c": "4"}, False),
    ("not", {"Weather": [{"anything-but": ["Raining"]}]}, {"Weather": "Sunny"}, True),
    ("not", {"Weather": [{"anything-but": ["Raining"]}]}, {"Weather": "Raining"}, False),
    ("not", {"Weather": [{"anything-but": ["Raining"]}]}, {}, False),
    ("not one value", {"state": [{"anything-but": "initializing"}]}, {"state": "ready"}, True),
    ("not one value", {"state": [{"anything-but": "initializing"}]}, {"state": "initializing"}, False),
    ("numeric equals", {"Price": [{"numeric": ["=", 100]}]}, {"Price": 100}, True),
    ("numeric equals", {"Price": [{"numeric": ["=", 100]}]}, {"Price": 101}, False),
    ("numeric range", {"Price": [{"numeric": [">", 10, "<=", 20]}]}, {"Price": 20}, True),
    ("numeric range", {"Price": [{"numeric": [">", 10, "<=", 20]}]}, {"Price": 10}, False),
    ("numeric range", {"Price": [{"numeric": [">", 10, "<=", 20]}]}, {"Price": 20.5}, False),
    ("numeric, a DynamoDB number", {"dynamodb": {"NewImage": {"Count": {"N": [{"numeric": [">", 1]}]}}}}, DDB_IMAGE, False),
    ("numeric, a record's own number", {"dynamodb": {"SizeBytes": [{"numeric": ["<", 100]}]}}, DDB_IMAGE, True),
    ("exists", {"ProductName": [{"exists": True}]}, {"ProductName": "Widget"}, True),
    ("exists", {"ProductName": [{"exists": True}]}, {}, False),
    ("exists, an intermediate node", {"dynamodb": {"NewImage": {"Organizations": [{"exists": True}]}}}, DDB_IMAGE, False),
    ("exists, through a DynamoDB list", {"dynamodb": {"NewImage": {"Organizations": {"L": {"S": [{"exists": True}]}}}}}, DDB_IMAGE, True),
    ("does not exist", {"ProductName": [{"exists": False}]}, {}, True),
    ("does not exist", {"ProductName": [{"exists": False}]}, {"ProductName": "Widget"}, False),
    ("begins with", {"Region": [{"prefix": "us-"}]}, {"Region": "us-east-1"}, True),
    ("begins with", {"Region": [{"prefix": "us-"}]}, {"Region": "eu-west-1"}, False),
    ("ends with", {"FileName": [{"suffix": ".png"}]}, {"FileName": "cat.png"}, True),
    ("ends with", {"FileName": [{"suffix": ".png"}]}, {"FileName": "cat.jpg"}, False),
    ("a value in an array", {"tags": ["b"]}, {"tags": ["a", "b"]}, True),
    ("a value in an array", {"tags": ["c"]}, {"tags": ["a", "b"]}, False),
    ("a DynamoDB key", {"dynamodb": {"Keys": {"UserID": {"S": ["12345"]}}}}, DDB_IMAGE, True),
    ("a DynamoDB key", {"dynamodb": {"Keys": {"UserID": {"S": ["99999"]}}}}, DDB_IMAGE, False),
]


@pytest.mark.parametrize(("pattern", "record", "expected"), [c[1:] for c in MATCHING], ids=[f"{c[0]}-{c[3]}" for c in MATCHING])
def test_each_documented_operator_matches_and_does_not(pattern, record, expected):
    assert matches(pattern, record) is expected


@pytest.mark.parametrize("pattern", [c[1] for c in MATCHING], ids=[f"{c[0]}-{c[3]}" for c in MATCHING])
def test_every_documented_operator_is_accepted_when_a_mapping_is_created(pattern):
    assert validate_filter_criteria({"Filters": [{"Pattern": json.dumps(pattern)}]}) == [pattern]


def test_filters_are_ored_and_none_lets_everything_through():
    record = {"eventName": "REMOVE"}
    assert passes([], record)
    assert passes([{"eventName": ["INSERT"]}, {"eventName": ["REMOVE"]}], record)
    assert not passes([{"eventName": ["INSERT"]}, {"eventName": ["MODIFY"]}], record)


@pytest.mark.parametrize("criteria", [None, {}, {"Filters": []}])
def test_no_criteria_means_no_filtering(criteria):
    """How Lambda removes a mapping's filters: an update with an empty FilterCriteria."""
    assert validate_filter_criteria(criteria) == []


def criteria(*patterns):
    return {"Filters": [{"Pattern": p if isinstance(p, str) else json.dumps(p)} for p in patterns]}


def ddb_new_image(rule):
    return {"dynamodb": {"NewImage": {"sku": {"S": [rule]}}}}


# (case, FilterCriteria, words the refusal must contain)
REFUSED = [
    ("not JSON", criteria("{eventName: [INSERT]}"), ["Filters[0].Pattern is not valid JSON"]),
    ("not an object", criteria('["INSERT"]'), ["Filters[0].Pattern", "expected a non-empty JSON object"]),
    ("an empty object", criteria("{}"), ["expected a non-empty JSON object"]),
    ("no pattern", {"Filters": [{}]}, ["Filters[0].Pattern is missing"]),
    ("a blank pattern", {"Filters": [{"Pattern": "  "}]}, ["Filters[0].Pattern is missing"]),
    ("criteria without a Filters array", {"Filters": "eventName"}, ["FilterCriteria takes"]),
    ("a field given a bare value", criteria({"eventName": "INSERT"}), ['not "INSERT", at eventName']),
    ("an empty array", criteria({"eventName": []}), ["non-empty array", "at eventName"]),
    ("an array in the array", criteria({"eventName": [["INSERT"]]}), ['["INSERT"] is neither a value nor an operator']),
    ("wildcard", criteria(ddb_new_image({"wildcard": "sku-*"})), ["operator 'wildcard' is not supported", "at dynamodb.NewImage.sku.S"]),
    ("cidr", criteria({"ip": [{"cidr": "10.0.0.0/24"}]}), ["operator 'cidr' is not supported"]),
    ("prefix ignoring case", criteria(ddb_new_image({"prefix": {"equals-ignore-case": "sku-"}})), ["'prefix' takes a string"]),
    ("suffix ignoring case", criteria(ddb_new_image({"suffix": {"equals-ignore-case": ".png"}})), ["'suffix' takes a string"]),
    ("anything-but a prefix", criteria(ddb_new_image({"anything-but": {"prefix": "test-"}})), ["'anything-but' takes"]),
    ("anything-but mixed types", criteria(ddb_new_image({"anything-but": ["a", 1]})), ["'anything-but' takes"]),
    ("anything-but nothing", criteria(ddb_new_image({"anything-but": []})), ["'anything-but' takes"]),
    ("equals-ignore-case a number", criteria(ddb_new_image({"equals-ignore-case": 5})), ["'equals-ignore-case' takes a string"]),
    ("exists not a boolean", criteria(ddb_new_image({"exists": "yes"})), ["'exists' takes true or false"]),
    ("two operators in one object", criteria(ddb_new_image({"prefix": "a", "suffix": "b"})), ["neither a value nor an operator object"]),
    ("numeric, a word", criteria({"Price": [{"numeric": ["<", "ten"]}]}), ["'numeric' takes", "at Price"]),
    ("numeric, an unknown operator", criteria({"Price": [{"numeric": ["!=", 1]}]}), ["'numeric' takes"]),
    ("numeric, bounds reversed", criteria({"Price": [{"numeric": [">", 20, "<", 10]}]}), ["'numeric' takes"]),
    ("numeric, upper bound first", criteria({"Price": [{"numeric": ["<", 20, ">", 10]}]}), ["'numeric' takes"]),
    ("numeric, equals in a range", criteria({"Price": [{"numeric": ["=", 1, "<", 2]}]}), ["'numeric' takes"]),
    ("numeric, no bound", criteria({"Price": [{"numeric": [">"]}]}), ["'numeric' takes"]),
    ("numeric, a boolean", criteria({"Price": [{"numeric": ["=", True]}]}), ["'numeric' takes"]),
    ("$or with one branch", criteria({"$or": [{"a": ["1"]}]}), ["$or takes an array of at least two objects", "at $or"]),
    ("$or not an array", criteria({"$or": {"a": ["1"]}}), ["$or takes an array"]),
    ("$or with a value", criteria({"$or": [{"a": ["1"]}, "b"]}), ["expected a non-empty JSON object", "at $or[1]"]),
    ("a bad operator in an $or branch", criteria({"$or": [{"a": ["1"]}, {"b": [{"wildcard": "*"}]}]}), ["'wildcard'", "at $or[1].b"]),
    ("the second filter", criteria({"a": ["1"]}, {"b": [{"wildcard": "*"}]}), ["Filters[1].Pattern"]),
    ("too many filters", criteria(*[{"n": [str(n)]} for n in range(MAX_FILTERS + 1)]), ["has 6 filters", "at most 5"]),
    ("a pattern too long", criteria({"a": ["x" * MAX_PATTERN_CHARS]}), ["Filters[0].Pattern is 4107 characters long; the limit is 4096"]),
]


@pytest.mark.parametrize(("criteria", "words"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_criteria_lambda_refuses_are_refused_naming_the_problem(criteria, words):
    with pytest.raises(InvalidFilterCriteria) as refused:
        validate_filter_criteria(criteria)
    for word in words:
        assert word in str(refused.value)


def test_as_many_filters_as_lambda_allows_are_accepted():
    patterns = [{"n": [str(n)]} for n in range(MAX_FILTERS)]
    assert validate_filter_criteria(criteria(*patterns)) == patterns

"""DynamoDB responses written by the sandbox's serializer are moto's, byte for byte, only cheaper."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.core.responses import get_service_model
from moto.core.serialize import JSONSerializer, XFormedAttributePicker

from orders_lib.sandbox.dynamodb import moto_patches as dynamodb_patches
from orders_lib.sandbox.dynamodb.attribute_values import AttributeValueSerializer, Unusual, wire_value

texts = st.text(max_size=8)
numbers = st.integers(-(10**6), 10**6).map(str)
blobs = st.binary(max_size=8)
scalars = st.one_of(
    texts.map(lambda v: {"S": v}),
    numbers.map(lambda v: {"N": v}),
    blobs.map(lambda v: {"B": v}),
    st.lists(texts, min_size=1, max_size=3).map(lambda v: {"SS": v}),
    st.lists(numbers, min_size=1, max_size=3).map(lambda v: {"NS": v}),
    st.lists(blobs, min_size=1, max_size=3).map(lambda v: {"BS": v}),
    st.just({"NULL": True}),
    st.booleans().map(lambda v: {"BOOL": v}),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda v: {"L": v}),
        st.dictionaries(st.text(min_size=1, max_size=5), inner, max_size=3).map(lambda v: {"M": v}),
    ),
    max_leaves=12,
)
items = st.dictionaries(st.text(min_size=1, max_size=6), values, min_size=1, max_size=5)


def _bodies(service: str, operation: str, result: Any) -> tuple[str, str]:
    model = get_service_model(service).operation_model(operation)

    def body(cls: type[JSONSerializer]) -> str:
        serializer = cls(operation_model=model, pretty_print=False, value_picker=XFormedAttributePicker(response_transformers=None))
        return serializer.serialize(result)["body"]

    return body(AttributeValueSerializer), body(JSONSerializer)


@settings(max_examples=150, deadline=None)
@given(item=items)
def test_item_responses_are_moto_s_own(item):
    for operation, result in (
        ("GetItem", {"Item": item}),
        ("UpdateItem", {"Attributes": item, "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 1.0}}),
        ("Scan", {"Items": [item, item], "Count": 2, "ScannedCount": 2, "LastEvaluatedKey": {"k": {"S": "x"}}}),
        ("BatchGetItem", {"Responses": {"t": [item]}, "UnprocessedKeys": {}}),
    ):
        fast, moto = _bodies("dynamodb", operation, result)
        assert fast == moto, operation


@settings(max_examples=50, deadline=None)
@given(item=items)
def test_stream_records_are_moto_s_own(item):
    record = {"eventID": "1", "eventName": "MODIFY", "dynamodb": {"Keys": item, "NewImage": item, "SequenceNumber": "1"}}
    fast, moto = _bodies("dynamodbstreams", "GetRecords", {"Records": [record], "NextShardIterator": "i"})
    assert fast == moto


@pytest.mark.parametrize(
    "odd",
    [{"L": [None]}, {"M": {"a": None}}, {"M": {"": {"S": "x"}}}, {"X": "1"}, "S", None],
    ids=["None in a list", "None in a map", "empty name in a map", "unknown member", "not a dict", "None"],
)
def test_values_the_fast_path_cannot_write_exactly_go_to_moto(odd):
    with pytest.raises(Unusual):
        wire_value(odd)
    fast, moto = _bodies("dynamodb", "GetItem", {"Item": {"a": odd, "b": {"S": "kept"}}})
    assert fast == moto


def test_a_blob_that_is_not_bytes_is_left_to_moto():
    with pytest.raises(Unusual):
        wire_value({"B": 5})


def test_the_sandbox_serves_dynamodb_with_it_and_boto3_reads_the_same_values():
    dynamodb_patches.install(lambda table: None)
    try:
        with mock_aws():
            ddb = boto3.client("dynamodb", region_name="us-east-1")
            ddb.create_table(
                TableName="t",
                KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            item = {
                "k": {"S": "1"},
                "n": {"N": "12.50"},
                "b": {"B": b"\x00\xff"},
                "bs": {"BS": [b"a", b"b"]},
                "ss": {"SS": ["x", "y"]},
                "m": {"M": {"l": {"L": [{"NULL": True}, {"BOOL": False}, {"NS": ["1", "2"]}]}}},
            }
            ddb.put_item(TableName="t", Item=item)
            got = ddb.get_item(TableName="t", Key={"k": {"S": "1"}})["Item"]
            assert {k: v for k, v in got.items() if k not in ("bs", "ss")} == {k: v for k, v in item.items() if k not in ("bs", "ss")}
            assert sorted(got["bs"]["BS"]) == [b"a", b"b"] and sorted(got["ss"]["SS"]) == ["x", "y"]
            assert ddb.scan(TableName="t")["Items"] == [got]
    finally:
        dynamodb_patches.uninstall()

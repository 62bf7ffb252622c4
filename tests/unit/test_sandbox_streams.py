"""Stream records in Lambda's shape, and their compact storage in the sandbox."""

import base64
from datetime import UTC, datetime

import pytest
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import StreamRecord

from orders_lib.sandbox.dynamodb.streams import CompactStreamRecord, epoch_seconds, new_record, to_event_record

RECORD = {
    "eventID": "e1",
    "eventName": "INSERT",
    "eventSource": "aws:dynamodb",
    "eventVersion": "1.0",
    "awsRegion": "us-east-1",
    "dynamodb": {
        "StreamViewType": "NEW_AND_OLD_IMAGES",
        "ApproximateCreationDateTime": datetime(2026, 11, 26, 12, 0, 0, 250000),  # noqa: DTZ001 - naive, as moto gives it
        "SequenceNumber": "1100",
        "SizeBytes": 10,
        "Keys": {"orderId": {"S": "o-1"}},
        "NewImage": {"orderId": {"S": "o-1"}, "items": {"L": [{"M": {"sku": {"S": "A"}}}]}, "blob": {"B": "AAE="}},
    },
}


def test_naive_times_from_moto_are_utc_whatever_the_local_zone():
    naive = datetime(2026, 11, 26, 12, 0, 0)  # noqa: DTZ001 - as moto gives it
    assert epoch_seconds(naive) == datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC).timestamp()


def test_event_records_have_lambdas_shape():
    event = to_event_record(RECORD)
    assert event["eventVersion"] == "1.1" and event["eventSource"] == "aws:dynamodb"
    assert event["dynamodb"]["ApproximateCreationDateTime"] == 1795694400.25
    assert event["dynamodb"]["NewImage"]["blob"] == {"B": "AAE="}


def test_compacted_records_read_back_unchanged_and_small():
    compact = CompactStreamRecord(RECORD)
    assert compact.to_json() == RECORD
    assert len(compact._blob) < 300


def _item(attrs):
    return Item(DynamoType(attrs["orderId"]), None, attrs)


OLD = {"orderId": {"S": "o-1"}, "status": {"S": "NEW"}, "total": {"N": "12.50"}}
NEW = {
    **OLD,
    "status": {"S": "PROCESSED"},
    "items": {"L": [{"M": {"sku": {"S": "A"}, "quantity": {"N": "2"}, "tags": {"SS": ["x", "y"]}}}]},
    "blob": {"B": base64.b64encode(b"\x00\x01").decode()},
    "nested": {"M": {"blob": {"B": base64.b64encode(b"\x02").decode()}, "flag": {"BOOL": True}, "none": {"NULL": True}}},
}


class _Table:
    hash_key_attr, range_key_attr = "orderId", None


@pytest.mark.parametrize("view_type", ["NEW_AND_OLD_IMAGES", "NEW_IMAGE", "OLD_IMAGE", "KEYS_ONLY"])
@pytest.mark.parametrize(("event", "old", "new"), [("INSERT", None, NEW), ("MODIFY", OLD, NEW), ("REMOVE", NEW, None)])
def test_records_hold_what_motos_stream_record_holds(view_type, event, old, new):
    old_item, new_item = (_item(a) if a else None for a in (old, new))
    ours = to_event_record(new_record(("orderId", None), "eu-west-1", view_type, old_item, new_item, 1107).to_json())
    moto = to_event_record(StreamRecord(_Table, view_type, event, old_item, new_item, 1107).to_json())
    assert ours["eventName"] == moto["eventName"] == event
    assert len(ours["eventID"]) == 32 and ours["eventID"] != moto["eventID"]
    for part in ("dynamodb", "eventName", "eventSource", "eventVersion"):
        mine, theirs = dict(ours[part]) if part == "dynamodb" else ours[part], dict(moto[part]) if part == "dynamodb" else moto[part]
        if part == "dynamodb":
            assert abs(mine.pop("ApproximateCreationDateTime") - theirs.pop("ApproximateCreationDateTime")) < 5
            assert 0 < mine.pop("SizeBytes") <= theirs.pop("SizeBytes")
        assert mine == theirs


def test_records_name_the_tables_region_and_the_ttl_identity():
    ttl = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
    record = new_record(("orderId", None), "eu-west-1", "NEW_AND_OLD_IMAGES", _item(OLD), None, 1, ttl)
    stored = record.to_json()
    assert stored["awsRegion"] == "eu-west-1"
    assert to_event_record(stored)["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert stored["dynamodb"]["Keys"] == {"orderId": {"S": "o-1"}} and "NewImage" not in stored["dynamodb"]

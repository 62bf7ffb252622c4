"""Stream records in Lambda's shape, and their compact storage in the sandbox."""

from datetime import UTC, datetime

from orders_lib.sandbox.dynamodb.streams import CompactStreamRecord, compact_new_records, epoch_seconds, to_event_record

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


class Raw:
    def __init__(self, record):
        self.record = record

    def to_json(self):
        return self.record


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


def test_only_the_newest_records_are_compacted():
    items = [CompactStreamRecord(RECORD), Raw(RECORD), Raw(RECORD)]
    first = items[0]
    compact_new_records(items)
    assert items[0] is first and all(isinstance(i, CompactStreamRecord) for i in items)
    assert [to_event_record(i.to_json())["dynamodb"]["SequenceNumber"] for i in items] == ["1100"] * 3

from orders_lib.domain.notification import dedup_id
from orders_lib.pipeline.create import create_order

from .conftest import valid_request
from .events import stream_event, stream_record


def new_order(repo, clock, key):
    return create_order(valid_request(idempotencyKey=key), repo, clock).order


def insert(order):
    return stream_record("INSERT", new=order.to_item())


def test_insert_of_new_order_is_processed_and_notified(process_handler, context, repo, clock, subscriber):
    order = new_order(repo, clock, "k1")
    assert process_handler(stream_event(insert(order)), context) == {"batchItemFailures": []}
    stored = repo.get(order.order_id)
    assert stored.status.value == "PROCESSED" and stored.processed_at and stored.notified_at
    [message] = subscriber.messages()
    assert message["body"]["orderId"] == order.order_id
    assert message["body"]["dedupId"] == dedup_id(order.order_id)


def test_modify_and_remove_are_ignored(process_handler, context, repo, clock, subscriber):
    order = new_order(repo, clock, "k1")
    item = order.to_item()
    event = stream_event(stream_record("MODIFY", new=item, old=item), stream_record("REMOVE", old=item))
    assert process_handler(event, context) == {"batchItemFailures": []}
    assert repo.get(order.order_id).status.value == "NEW"
    assert subscriber.messages() == []


def test_a_redelivered_record_changes_nothing_and_sends_nothing_more(process_handler, context, repo, clock, subscriber):
    order = new_order(repo, clock, "k1")
    process_handler(stream_event(insert(order)), context)
    first = repo.get(order.order_id)
    assert process_handler(stream_event(insert(order)), context) == {"batchItemFailures": []}
    assert repo.get(order.order_id) == first
    assert len(subscriber.messages()) == 1


def test_invalid_records_are_reported_and_the_rest_processed(process_handler, context, repo, clock, subscriber):
    good = [new_order(repo, clock, f"k{i}") for i in range(3)]
    poison = stream_record("INSERT", new={"orderId": "poison-1", "status": "NEW", "note": "written by hand"})
    no_image = stream_record("INSERT", keys={"orderId": {"S": "x"}})
    wrong_types = stream_record("INSERT", raw_new={"orderId": {"N": "12"}, "items": {"S": "nope"}})
    event = stream_event(insert(good[0]), poison, insert(good[1]), no_image, wrong_types, insert(good[2]))
    response = process_handler(event, context)
    failed = [f["itemIdentifier"] for f in response["batchItemFailures"]]
    assert failed == [r["dynamodb"]["SequenceNumber"] for r in (poison, no_image, wrong_types)]
    assert all(repo.get(o.order_id).status.value == "PROCESSED" for o in good)
    assert len(subscriber.messages()) == 3


def test_processed_orders_in_an_insert_image_need_no_work(process_handler, context, repo, clock, subscriber):
    order = new_order(repo, clock, "k1")
    repo.complete(order.order_id, "2026-11-26T12:00:01.000Z", "2026-11-26T12:00:01.000Z")
    done = repo.get(order.order_id)
    assert process_handler(stream_event(insert(done)), context) == {"batchItemFailures": []}
    assert subscriber.messages() == []


def test_retry_after_a_failed_publish_still_sends_the_notification(process_handler, context, repo, clock, subscriber, monkeypatch):
    import process_order

    order = new_order(repo, clock, "k1")
    record = insert(order)
    real = process_order.notifier._client

    class Down:
        def publish_batch(self, **kwargs):
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "InternalError", "Message": "SNS down"}}, "PublishBatch")

    monkeypatch.setattr(process_order.notifier, "_client", Down())
    response = process_handler(stream_event(record), context)
    assert response == {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
    assert repo.get(order.order_id).status.value == "NEW"  # PROCESSED only once a notification is accepted
    assert repo.get(order.order_id).notified_at is None

    monkeypatch.setattr(process_order.notifier, "_client", real)
    assert process_handler(stream_event(record), context) == {"batchItemFailures": []}
    stored = repo.get(order.order_id)
    assert stored.notified_at is not None and stored.processed_at is not None
    [message] = subscriber.messages()
    assert message["body"]["dedupId"] == dedup_id(order.order_id)


def test_a_deleted_order_is_skipped(process_handler, context, repo, clock, dynamodb, subscriber):
    order = new_order(repo, clock, "k1")
    dynamodb.delete_item(TableName="techtest-orders", Key={"orderId": {"S": order.order_id}})
    assert process_handler(stream_event(insert(order)), context) == {"batchItemFailures": []}
    assert repo.get_item(order.order_id) is None and subscriber.messages() == []


def test_unknown_event_names_and_undecodable_images_are_reported(process_handler, context, repo, clock):
    good = new_order(repo, clock, "k1")
    odd_name = stream_record("UPSERT", new=good.to_item())
    bad_type = stream_record("INSERT", raw_new={"orderId": {"Q": "?"}})
    no_name = stream_record("INSERT", new=good.to_item())
    del no_name["eventName"]
    event = stream_event(odd_name, bad_type, no_name, insert(good))
    failed = [f["itemIdentifier"] for f in process_handler(event, context)["batchItemFailures"]]
    assert failed == [r["dynamodb"]["SequenceNumber"] for r in (odd_name, bad_type, no_name)]
    assert repo.get(good.order_id).status.value == "PROCESSED"

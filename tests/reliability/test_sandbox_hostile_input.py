"""Hostile input through the deployed CreateOrder function on the sandbox."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

from orders_lib.aws.repository import OrderRepository
from orders_lib.ops import reconcile
from orders_lib.ops.orders import build_request, invoke_create
from sandbox_testing import wait_for

CLIENTS = 20


def request(key, quantity=2):
    return build_request("C-7", "Grace Hopper", "grace@example.com", [("MUG-01", "Mug", quantity, "9.99")], "USD", key)


def test_twenty_concurrent_duplicates_create_exactly_one_order(aws, outputs):
    # 20 client threads released together; the sandbox runs up to 4 CreateOrder
    # workers at once, so several conditional puts race for the same orderId.
    start = threading.Barrier(CLIENTS)

    def send(_):
        start.wait()
        return invoke_create(aws("lambda"), outputs["CreateOrderFunctionName"], request("dup-key-20"))

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = list(pool.map(send, range(CLIENTS)))
    codes = sorted(r.status_code for r in results)
    assert codes == [200] * (CLIENTS - 1) + [201]
    order_ids = {r.order["orderId"] for r in results}
    assert len(order_ids) == 1
    [order_id] = order_ids
    repo = OrderRepository(aws("dynamodb"), outputs["TableName"])
    wait_for(lambda: (repo.get_item(order_id) or {}).get("notifiedAt"), message="the order processed and notified")
    records = reconcile.read_stream(aws("dynamodbstreams"), outputs["TableStreamArn"])
    mine = [r for r in records if r["dynamodb"]["Keys"]["orderId"]["S"] == order_id]
    # One INSERT: no duplicate ever overwrote the item (an overwrite is a MODIFY with equal status).
    assert [r["eventName"] for r in mine].count("INSERT") == 1
    assert reconcile.transitions_by_order(mine)[order_id] == 1


def test_the_same_key_with_a_different_request_is_refused(aws, outputs):
    first = invoke_create(aws("lambda"), outputs["CreateOrderFunctionName"], request("dup-key-409", quantity=1))
    again = invoke_create(aws("lambda"), outputs["CreateOrderFunctionName"], request("dup-key-409", quantity=5))
    assert first.status_code == 201 and again.status_code == 409
    assert OrderRepository(aws("dynamodb"), outputs["TableName"]).get(first.order["orderId"]).items[0].quantity == 1


def test_oversize_and_malformed_bodies_are_refused_by_the_real_function_and_write_nothing(aws, outputs):
    table = outputs["TableName"]
    before = aws("dynamodb").scan(TableName=table, Select="COUNT")["Count"]
    huge = json.dumps({**request("big"), "customer": {"customerId": "C-1", "name": "x" * 70_000, "email": "a@b.co"}})
    events = [
        {"body": huge, "isBase64Encoded": False},
        {"body": '{"customer": ', "isBase64Encoded": False},
        {"body": "////", "isBase64Encoded": True},
        {"body": "\u0000\u0001", "isBase64Encoded": False},
    ]
    for event in events:
        result = invoke_create(aws("lambda"), outputs["CreateOrderFunctionName"], event)
        assert result.status_code == 400 and result.errors[0]["field"] == "body", result.body
    assert aws("dynamodb").scan(TableName=table, Select="COUNT")["Count"] == before

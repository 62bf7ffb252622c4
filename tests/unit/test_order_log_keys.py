"""Every log line about one order carries its id as a top-level ``orderId`` key, and batch lines
list the ``orderIds`` they cover: what ``orders trace`` filters CloudWatch Logs on."""

from __future__ import annotations

import io
import json
import sys

from orders_lib.pipeline.create import create_order, handle_create_event
from orders_lib.pipeline.process import process_records

from .conftest import valid_request
from .events import stream_event, stream_record


class RecordingLog:
    """Stands in for the Powertools Logger: keeps (level, message, extra)."""

    def __init__(self):
        self.lines = []

    def _log(self, level, message, extra=None, **_):
        self.lines.append((level, message, dict(extra or {})))

    def info(self, message, **kwargs):
        self._log("INFO", message, **kwargs)

    def warning(self, message, **kwargs):
        self._log("WARNING", message, **kwargs)

    def error(self, message, **kwargs):
        self._log("ERROR", message, **kwargs)

    def exception(self, message, **kwargs):
        self._log("ERROR", message, **kwargs)


def test_create_answers_name_the_order_for_201_200_and_409_not_400(repo):
    log = RecordingLog()
    for request in (
        valid_request(idempotencyKey="k"),
        valid_request(idempotencyKey="k"),
        valid_request(idempotencyKey="k", currency="USD"),
    ):
        handle_create_event(request, repo, log=log)
    handle_create_event({"customer": 1}, repo, log=log)
    answers = [(extra["status_code"], extra.get("orderId")) for _, message, extra in log.lines if message == "create-order answered"]
    order_id = repo.list_items()[0]["orderId"]
    assert answers == [(201, order_id), (200, order_id), (409, order_id), (400, None)]


def test_process_lines_name_the_orders_of_the_batch_and_each_order(repo, notifier, clock):
    good = create_order(valid_request(idempotencyKey="g"), repo, clock).order
    poison = stream_record("INSERT", new={"orderId": "poison-1", "status": "NEW"})
    keyless = stream_record("INSERT", keys={}, raw_new={"status": {"S": "NEW"}})
    log = RecordingLog()
    process_records_event = stream_event(stream_record("INSERT", new=good.to_item()), poison, keyless)
    from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

    result = process_records(DynamoDBStreamEvent(process_records_event).records, repo, notifier, clock, log=log)
    assert result.processed == [good.order_id] and len(result.failures) == 2
    by_message = {}
    for _level, message, extra in log.lines:
        by_message.setdefault(message, []).append(extra)
    [received] = by_message["batch received"]
    assert received["orderIds"] == [good.order_id, "poison-1", None] and received["batch_size"] == 3
    assert len(received["sequence_numbers"]) == 3
    refused = by_message["record is not a valid order"]
    assert [extra.get("orderId") for extra in refused] == ["poison-1", None]  # the keyless record has no order to name
    [published] = by_message["notification published"]
    assert published["orderId"] == good.order_id and published["message_id"]
    assert published["sequence_number"] == received["sequence_numbers"][0]
    [done] = by_message["batch done"]
    assert done["orderIds"] == received["orderIds"] and done["failed_sequence_numbers"] == received["sequence_numbers"][1:]


def test_the_handlers_write_order_ids_as_top_level_json_keys_that_do_not_leak(capsys, create_handler, context):
    # Powertools reuses the service's logging handler across imports: point it at a buffer for this test.
    logger = sys.modules["create_order"].logger
    handler, level = logger.registered_handler, logger.log_level  # the tests' environment logs warnings only
    buffer = io.StringIO()
    previous, handler.stream = handler.stream, buffer  # not setStream: it flushes the old one, maybe a closed capture
    logger.setLevel("INFO")
    try:
        create_handler(valid_request(idempotencyKey="leak-1"), context)
        create_handler({"customer": 1}, context)  # a 400: no order, and nothing left from the call before
    finally:
        handler.stream = previous
        logger.setLevel(level)
    text = buffer.getvalue() + capsys.readouterr().out  # the metrics (EMF) lines are printed
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    answered = [line for line in lines if line.get("message") == "create-order answered"]
    assert [line["status_code"] for line in answered] == [201, 400]
    assert answered[0]["orderId"] and "orderId" not in answered[1]
    metric_lines = [line for line in lines if "_aws" in line]
    assert metric_lines[0]["orderId"] == answered[0]["orderId"] and "orderId" not in metric_lines[1]


def test_a_redriven_batch_says_so_in_every_line_and_the_next_batch_does_not(process_handler, repo, context):
    good = create_order(valid_request(idempotencyKey="redrive-1"), repo).order
    logger = sys.modules["process_order"].logger
    handler, level = logger.registered_handler, logger.log_level
    buffer = io.StringIO()
    previous, handler.stream = handler.stream, buffer
    logger.setLevel("INFO")
    try:
        redriven = stream_event(stream_record("INSERT", new=good.to_item()))
        process_handler({**redriven, "redrive": {"dlq_message_id": "m-1", "condition": "RetryAttemptsExhausted"}}, context)
        process_handler(stream_event(stream_record("INSERT", new=good.to_item())), context)  # the mapping's own batch
    finally:
        handler.stream = previous
        logger.setLevel(level)
    lines = [json.loads(line) for line in buffer.getvalue().splitlines() if line.startswith("{")]
    received = [line for line in lines if line.get("message") == "batch received"]
    assert len(received) == 2
    assert received[0]["redrive"] == {"dlq_message_id": "m-1", "condition": "RetryAttemptsExhausted"}
    assert "redrive" not in received[1]
    first_batch = lines[: lines.index(received[1])]
    assert all(line.get("redrive") for line in first_batch)

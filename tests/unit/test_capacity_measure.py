"""The capacity workbook's measurement maths, on handmade log lines and items, and the verdict of
its check against the sandbox."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal

import pytest

from orders_lib.planning import sandbox_check
from orders_lib.planning.figures import PipelineFigures, write_units
from orders_lib.planning.measure import (
    Measurement,
    calls_from_logs,
    fit_process,
    item_size,
    lane_gap_ms,
    log_bytes,
    notification_bytes,
    number_size,
    process_batches,
    reports,
)


def report(request_id: str, duration: float, memory: int = 50, init: float | None = None) -> dict:
    line = (
        f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\tBilled Duration: {int(duration) + 1} ms\t"
        f"Memory Size: 256 MB\tMax Memory Used: {memory} MB\t"
    )
    if init is not None:
        line += f"Init Duration: {init:.2f} ms\t"
    return {"timestamp": 1, "message": line}


def powertools(request_id: str, message: str, **extra: object) -> dict:
    return {"timestamp": 1, "message": json.dumps({"level": "INFO", "message": message, "function_request_id": request_id, **extra})}


def batch_events(sizes_and_durations: list[tuple[int, float]]) -> list[dict]:
    events = []
    for index, (size, duration) in enumerate(sizes_and_durations):
        rid = f"req-{index}"
        events += [
            {"timestamp": 1, "message": f"START RequestId: {rid} Version: $LATEST"},
            powertools(rid, "batch received", batch_size=size, orderIds=[f"o{i}" for i in range(size)]),
            powertools(rid, "batch done", processed=size, notified=size, orderIds=[f"o{i}" for i in range(size)]),
            {"timestamp": 1, "message": f"END RequestId: {rid}"},
            report(rid, duration),
        ]
    return events


def test_process_fit_separates_fixed_and_per_record_parts_from_report_and_batch_lines():
    events = batch_events([(1, 25.0), (4, 40.0), (10, 70.0), (10, 70.0), (7, 55.0)])  # 20 ms + 5 ms a record
    batches = process_batches(events)
    assert [b.records for b in batches] == [1, 4, 10, 10, 7]
    fit = fit_process([(b.records, b.report.duration_ms) for b in batches])
    assert fit.separable and fit.sizes == (1, 4, 7, 10)
    assert fit.fixed_ms == pytest.approx(20.0) and fit.per_record_ms == pytest.approx(5.0)
    assert "least squares over 5 batches" in fit.note


def test_process_fit_says_when_batch_sizes_do_not_vary_enough():
    fit = fit_process([(10, 100.0), (10, 110.0), (9, 95.0)], PipelineFigures(process_fixed_ms=40, process_per_record_ms=6))
    assert not fit.separable
    assert "did not vary enough" in fit.note
    mean_records, mean_ms = 29 / 3, 305 / 3
    assert fit.fixed_ms + fit.per_record_ms * mean_records == pytest.approx(mean_ms)  # the mean is kept, split as the defaults split it
    assert fit.fixed_ms / mean_ms == pytest.approx(40 / (40 + 6 * mean_records))


def test_process_fit_sets_a_negative_fixed_part_to_zero():
    fit = fit_process([(1, 1.0), (10, 100.0), (5, 60.0)])
    assert fit.fixed_ms == 0.0 and fit.per_record_ms == pytest.approx(161 / 16)
    assert "set to 0" in fit.note


def test_batches_without_a_batch_line_are_left_out_and_reports_keep_memory_and_init():
    events = [*batch_events([(3, 30.0)]), report("no-batch-line", 12.0, memory=70, init=300.0)]
    assert [b.request_id for b in process_batches(events)] == ["req-0"]
    found = {r.request_id: r for r in reports(events)}
    assert found["no-batch-line"].max_memory_mb == 70 and found["no-batch-line"].init_ms == 300.0


def test_item_size_follows_dynamodbs_rules_and_sets_the_write_units():
    assert number_size(Decimal("12.75")) == 3  # 4 significant digits: 2 bytes, plus 1
    assert number_size(Decimal("1000")) == 2  # trailing zeros trimmed
    assert number_size(Decimal("-0.005")) == 2
    item = {
        "orderId": "abc",  # 7 + 3
        "total": Decimal("12.75"),  # 5 + 3
        "ok": True,  # 2 + 1
        "items": [{"sku": "A"}],  # 5 + 3 + (1 + (3 + 1 + 3 + 1))
        "é": "é",  # 2 + 2
    }
    assert item_size(item) == 10 + 8 + 3 + 17 + 4
    big = {"pad": "x" * 1100}
    assert item_size(big) == 1103 and write_units(item_size(big)) == 2
    assert write_units(item_size(item)) == 1


def test_notification_bytes_is_the_published_body_plus_its_attributes():
    item = {
        "orderId": "8a0b6c2e-1f3d-4e5a-9b7c-0d1e2f3a4b5c",
        "status": "PROCESSED",
        "customer": {"customerId": "C-1", "name": "Ada", "email": "ada@example.com"},
        "items": [{"sku": "NB-A5", "name": "Notebook", "quantity": Decimal(2), "unitPrice": Decimal("4.50")}],
        "currency": "EUR",
        "total": "9.00",
        "createdAt": "2026-11-30T10:00:00.000Z",
        "processedAt": "2026-11-30T10:00:00.100Z",
        "expiresAt": Decimal(1796000000),
        "idempotencyKey": "k",
        "requestHash": "h",
    }
    size = notification_bytes(item)
    assert 250 < size < 600
    assert notification_bytes({**item, "currency": "GBP"}) == size  # the same lengths, the same size


def test_log_bytes_per_order_counts_every_events_utf8_bytes():
    events = [{"timestamp": 1, "message": "abc"}, {"timestamp": 2, "message": "é\n"}]
    assert log_bytes(events) == 3 + 3
    measurement = Measurement(
        orders=4,
        seconds=1.0,
        offered_per_s=4.0,
        create=[],
        batches=[],
        fit=fit_process([(1, 10.0), (4, 25.0)]),
        item_bytes=[500],
        new_item_bytes=[450],
        notification_bytes=[400],
        log_bytes={"CreateOrder": 4000, "ProcessOrder": 2000},
        log_events={"CreateOrder": 20, "ProcessOrder": 6},
        calls=Counter({"dynamodb.PutItem": 4, "dynamodb.UpdateItem": 4, "sns.PublishBatch": 1}),
        calls_source="counted",
    )
    assert measurement.log_bytes_per_order == 1500.0
    figures = measurement.figures()
    assert figures.log_bytes_per_order == 1500.0 and figures.writes_per_order == 2.0 and figures.item_bytes == 500
    assert figures.calls_per_order == {"dynamodb.PutItem": 1.0, "dynamodb.UpdateItem": 1.0, "sns.PublishBatch": 0.25}
    assert figures.kms_requests_per_order == PipelineFigures().kms_requests_per_order  # not measured: the default stays


def test_calls_derived_from_the_handlers_log_lines():
    create = [powertools(f"c{i}", "create-order answered", status_code=code) for i, code in enumerate([201, 201, 200, 400])]
    process = batch_events([(10, 50.0), (3, 20.0)])
    calls = calls_from_logs(create, process)
    assert calls == Counter(
        {"dynamodb.PutItem": 3, "dynamodb.GetItem": 1, "dynamodb.BatchGetItem": 2, "sns.PublishBatch": 2, "dynamodb.UpdateItem": 13}
    )


def test_validation_verdict_within_25_percent_agrees_and_beyond_is_red():
    assert sandbox_check.verdict_agrees(1.25, 1.0) and sandbox_check.verdict_agrees(0.75, 1.0)
    assert not sandbox_check.verdict_agrees(1.26, 1.0) and not sandbox_check.verdict_agrees(0.7, 1.0)
    assert sandbox_check.verdict_text(1.1, 1.0) == "agrees (within 25%)"
    assert sandbox_check.verdict_text(2.0, 1.0).startswith("DISAGREES: the model is 2.00× the measurement")
    from orders_lib.workbook.capacity import RED, validation_frame

    rows = [sandbox_check.Row("PROCESSED orders/s", 50.0, 48.0), sandbox_check.Row("IteratorAge, largest (s)", 3.0, 1.0)]
    html = validation_frame(rows).to_html()
    style = html.split("</style>")[0]  # one rule, listing the red cells
    assert "#c53030" in style and RED.split(";")[0] in style
    assert all(f"_row1_col{column}" in style for column in range(4)) and "_row0_" not in style  # the disagreeing row only
    assert "DISAGREES" in html


def test_prediction_takes_the_lowest_bound_and_the_backlog_sets_the_oldest_wait():
    settings = sandbox_check.SandboxSettings(parallelization_factor=1, batch_size=10, batching_window_s=0.0, workers=4)
    figures = PipelineFigures(create_ms=20, process_fixed_ms=20, process_per_record_ms=8)  # a batch of 10 in 100 ms: 100/s
    lane = sandbox_check.predict(figures, settings, None, 150.0)
    assert lane.capacity.name.startswith("stream processing") and lane.processed_per_s == pytest.approx(100.0)
    assert lane.oldest_wait_s(10.0) == pytest.approx(lane.lag_s + 5.0)  # 1,500 written, 1,000 processed: 500 more at 100/s
    core = sandbox_check.predict(figures, settings, 12.5, 150.0)  # 12.5 ms of the sandbox's core an order: 80/s
    assert core.capacity.name == "the sandbox's core" and core.processed_per_s == pytest.approx(80.0)
    keeps_up = sandbox_check.predict(figures, settings, 12.5, 40.0)
    assert keeps_up.processed_per_s == 40.0 and keeps_up.oldest_wait_s(10.0) == pytest.approx(keeps_up.lag_s)
    slow_create = PipelineFigures(create_ms=80, process_fixed_ms=20, process_per_record_ms=8)  # 4 workers: 50/s
    assert sandbox_check.predict(slow_create, settings, None, 150.0).capacity.name == "CreateOrder's workers"
    direct = sandbox_check.predict(slow_create, settings, None, 150.0, through_create=False)  # written straight into the table
    assert [b.name for b in direct.bounds] == ["stream processing (the AWS model)"] and direct.processed_per_s == pytest.approx(100.0)


def test_lane_gap_is_the_median_time_between_full_batches():
    events = []
    for index, (size, ended, duration) in enumerate(
        [(10, 1100, 100.0), (10, 1220, 100.0), (10, 1350, 100.0), (3, 2000, 40.0), (10, 2130, 100.0)]
    ):
        rid = f"r{index}"
        events += [powertools(rid, "batch received", batch_size=size), {**report(rid, duration), "timestamp": ended}]
    batches = process_batches(events)
    assert [b.ended_ms for b in batches] == [1100, 1220, 1350, 2000, 2130]
    assert lane_gap_ms(batches) == 30.0  # gaps between full batches: 20 and 30 (the batch of 3 interrupts the backlog)
    assert lane_gap_ms(batches[:1]) is None


def test_the_check_uses_the_runs_own_batch_durations():
    figures = PipelineFigures(process_fixed_ms=5, process_per_record_ms=10)  # the sample: 105 ms a full batch
    run = sandbox_check.Run(150.0, 2.5, 120.0, 400, 1.4, 0.5, batch_ms=70.0, gap_ms=2.0)
    at_run = sandbox_check.run_figures(figures, run, 10)
    assert at_run.process_ms(10) == pytest.approx(70.0) and at_run.process_per_record_ms == 7.0  # at most the whole
    slower = sandbox_check.run_figures(figures, sandbox_check.Run(150.0, 2.5, 80.0, 400, 2.0, 0.5, batch_ms=130.0), 10)
    assert (slower.process_fixed_ms, slower.process_per_record_ms) == (30.0, 10.0)
    assert sandbox_check.run_figures(figures, sandbox_check.Run(150.0, 2.5, 80.0, 400, None, 0.5), 10) is figures
    tiny = sandbox_check.run_figures(figures, sandbox_check.Run(150.0, 2.5, 80.0, 400, 1.0, 0.5, batch_ms=1.89), 10)
    assert tiny.process_fixed_ms == 0.0 and tiny.process_ms(10) == pytest.approx(1.89)  # 1.89 - 0.189 × 10 is -2e-16 in floats


def test_the_window_is_read_page_by_page_without_a_filter_pattern():
    from orders_lib.planning.measure import window_events

    class Logs:
        def __init__(self):
            self.calls = []

        def filter_log_events(self, **kwargs):
            self.calls.append(kwargs)
            if "nextToken" not in kwargs:
                return {"events": [{"eventId": "2", "timestamp": 20, "message": "b"}], "nextToken": "t"}
            return {"events": [{"eventId": "1", "timestamp": 10, "message": "a"}, {"eventId": "2", "timestamp": 20, "message": "b"}]}

    logs = Logs()
    assert [e["message"] for e in window_events(logs, "/aws/lambda/f", 0, 100)] == ["a", "b"]  # oldest first, overlap once
    assert all("filterPattern" not in call for call in logs.calls) and len(logs.calls) == 2

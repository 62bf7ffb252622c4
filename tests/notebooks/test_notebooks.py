"""Every notebook runs unattended under papermill against a sandbox of its own;
a failing cell fails the test with the cell's error. The executed notebooks stay
in ``build/notebooks-executed`` for nbval (``--nbval-replay``, ``make test``)."""

import json
import re
import shutil

import nbformat
import pytest

from orders_lib.deploy.synth import ROOT
from orders_lib.workbook.bench import Workbench
from orders_lib.workbook.run import NOTEBOOKS, run_notebook, summarize

EXECUTED = ROOT / "build" / "notebooks-executed"


@pytest.fixture(scope="module")
def sandbox(start_sandbox):
    return start_sandbox("notebook-sandbox", deploy=False)  # 01_deploy deploys the stack


@pytest.fixture(scope="module")
def executed(sandbox, tmp_path_factory):
    """Run 01..05 in order (each builds on the one before), as `make demo` does."""
    reports = tmp_path_factory.mktemp("reports")
    shutil.rmtree(EXECUTED, ignore_errors=True)  # nbval must never compare a previous run's outputs
    runs = {}
    for name in NOTEBOOKS:
        parameters = {"endpoint": sandbox.endpoint, "report_dir": str(reports)}
        runs[name] = run_notebook(name, EXECUTED, parameters, html=name == "01_deploy")
    return reports, runs


def text_of(path):
    book = nbformat.read(path, as_version=4)
    return "\n".join(
        output.get("text", "") or json.dumps(output.get("data", {}).get("text/plain", ""))
        for cell in book.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )


def test_deploy_notebook_shows_stack_checks_outputs_and_smoke(executed):
    _, runs = executed
    text = text_of(runs["01_deploy"].output)
    assert "AWS::DynamoDB::Table" in text and "techtest-orders" in text
    assert "cdk-nag: 0 unacknowledged findings" in text
    assert "TopicArn" in text and "DlqUrl" in text
    assert "'passed': True" in text
    report = runs["01_deploy"].html.read_text()
    assert "<html" in report[:500].lower() and "AWS::DynamoDB::Table" in report
    visible = re.sub(r"<(script|style)\b.*?</\1>|<[^>]+>", " ", report, flags=re.S)  # what a reader sees
    assert "Workbench.connect" not in visible and "NBVAL" not in visible.upper()  # outputs, no code, no test markers
    assert "Workbench.connect" in runs["01_deploy"].output.read_text()  # the executed notebook keeps the code


def test_create_notebook_creates_refuses_and_lists(executed):
    reports, runs = executed
    text = text_of(runs["02_create_orders"].output)
    assert "created: 12.75 EUR, status NEW" in text and "on its way: NEW → PROCESSED → notified" in text
    assert "CreateOrder answered 201 (created)" in text and "ProcessOrder batch of 1, attempt 1: done" in text
    assert "SNS          notification published" in text and "verdict: notified in" in text
    assert (reports / "trace-created-order.png").stat().st_size > 10_000
    assert "customer.email: has an invalid format" in text and "items[0].unitPrice: must have at most 2 decimal places" in text
    assert "'pending': 0" in text


def test_latency_notebook_measures_capacity_first_and_samples_at_half_of_it(executed):
    reports, runs = executed
    text = text_of(runs["03_latency"].output)
    capacity = re.search(r"capacity: (at least )?([\d.]+) orders/s", text)
    rate = re.search(r"sample rate: ([\d.]+) orders/s \(half the capacity\)", text)
    assert capacity and rate, text[:2000]
    assert float(rate[1]) == min(50.0, max(1.0, round(float(capacity[2]) / 2, 1)))
    for stage in ("write → stream", "stream → processed", "processed → notified", "processed → received"):
        assert stage in text
    assert f"300 orders at {rate[1]} orders/s: half were PROCESSED within" in text
    assert "4 offered rates, 160 orders PROCESSED" in text
    assert "saturates between" in text or "no saturation in this range" in text
    for chart in ("latency_histogram.png", "throughput.png", "stages.png", "latency_over_run.png", "latency_vs_load.png"):
        assert (reports / chart).stat().st_size > 1000, chart
    figures = json.loads((reports / "latency.json").read_text())
    assert figures["capacity_per_s"] == float(capacity[2]) and figures["sample"]["rate_per_s"] == float(rate[1])
    assert figures["sample"]["orders"] == 300 and not figures["sample"]["rate_given"]
    assert 0 < figures["sample"]["write_to_processed_ms"]["p50"] <= figures["sample"]["write_to_processed_ms"]["p99"]


def test_dlq_notebook_explains_and_redrives(executed, sandbox):
    reports, runs = executed
    text = text_of(runs["04_dlq"].output)
    assert "batch of 1, attempt 4: batchItemFailures names it: record is not a valid order" in text
    assert "verdict: in the DLQ after 4 attempts: record is not a valid order" in text
    assert (reports / "trace-dlq-entry.png").stat().st_size > 10_000
    assert "RetryAttemptsExhausted" in text and "not a valid order" in text
    assert "safe to redrive" in text
    assert "not purged" in text  # purge needs confirmation
    assert "poison-003" in text and "redriven" in text


def test_operations_notebook_fires_the_dlq_alarm_alerts_and_recovers(executed, sandbox):
    reports, runs = executed
    text = text_of(runs["05_operations"].output)
    assert "6 alarms: techtest-orders-create-errors, techtest-orders-create-throttles, techtest-orders-dlq-not-empty" in text
    assert "DLQ alarm before: OK" in text
    assert "DLQ alarm: ALARM | notifications-failed alarm: ALARM" in text
    assert "DLQ alarm alert received: True" in text
    assert "redriven 5 record(s), failed again 0, DLQ batches left 0" in text
    assert "DLQ alarm after: OK" in text
    assert "verdict: in the DLQ after 4 attempts: notification failed" in text
    assert re.search(r"verdict: notified in [\d.]+ s, slowest: the DLQ until the redrive", text), text[-3000:]
    for chart in ("trace-incident-failed.png", "trace-incident-recovered.png"):
        assert (reports / chart).stat().st_size > 10_000, chart
    assert "'notifications_failed': 'yes'" in text
    assert (reports / "operations.png").stat().st_size > 10_000
    summary = summarize(Workbench.connect("sandbox", endpoint=sandbox.endpoint), reports)
    assert summary["dlq_messages"] == 0  # 04's poison purged, the incident's batches redriven
    assert summary["processed"] == summary["notified"]
    assert summary["latency"] == json.loads((reports / "latency.json").read_text()), "the headline is 03's sample, not the table's orders"


def test_deploy_notebook_expires_the_smoke_order_with_the_ttl_process(executed):
    text = text_of(executed[1]["01_deploy"].output)
    assert "'ttl': 'ENABLED on expiresAt', 'point_in_time_recovery': 'ENABLED', 'encryption': 'ENABLED KMS'" in text
    assert "'days_after_creation': 7.0" in text
    assert "'still_in_table': False, 'stream': 'REMOVE', 'deleted_by': {'type': 'Service', 'principalId': 'dynamodb.amazonaws.com'}" in text


def test_deploy_notebook_deploys_to_the_sandbox_through_the_cdk_cli(start_sandbox, tmp_path):
    """`sandbox_via_cdk_cli = True`: the CDK command line against the sandbox, a stage beside nothing else."""
    sandbox = start_sandbox("notebook-cdk-cli", deploy=False)
    run = run_notebook(
        "01_deploy",
        tmp_path,
        {"endpoint": sandbox.endpoint, "report_dir": str(tmp_path), "stack": "techtest-orders-nbcli", "sandbox_via_cdk_cli": True},
        html=False,
    )
    text = text_of(run.output)
    assert "techtest-create-order-nbcli" in text and "'passed': True" in text
    stacks = Workbench.connect("sandbox", endpoint=sandbox.endpoint).client("cloudformation").describe_stacks()["Stacks"]
    deployed = {s["StackName"]: s for s in stacks}
    assert {"CDKToolkit", "techtest-orders-nbcli"} <= set(deployed)
    assert any(p["ParameterKey"] == "BootstrapVersion" for p in deployed["techtest-orders-nbcli"]["Parameters"]), "deployed by the CDK CLI"


def test_capacity_notebook_measures_models_costs_and_checks_the_sandbox(executed):
    reports, runs = executed
    text = text_of(runs["06_capacity"].output)
    assert re.search(r"200 orders notified; ProcessOrder batches of \d+ to \d+ records", text), text[:500]
    assert "read 2026-11-30" in text and "list prices" in text
    assert "compared: ['PROCESSED orders/s', 'IteratorAge, largest (s)']" in text
    assert "bound: the sandbox's core:" in text and "bound: stream processing (the AWS model):" in text
    for chart in ("capacity_sweep.png", "capacity_grid.png", "capacity_cost.png"):
        assert (reports / chart).stat().st_size > 10_000, chart
    figures = json.loads((reports / "capacity.json").read_text())
    measured = {row["figure"]: row for row in figures["measured"]}
    assert (
        measured["api_calls_per_order"]["how"].startswith("counted by the sandbox")
        and "dynamodb.UpdateItem 1.00" in measured["api_calls_per_order"]["how"]
    )
    assert measured["kms_requests_per_order"]["how"].startswith("estimated, not measured")
    assert measured["lane_gap_ms"]["measured"] is not None
    assert measured["item_bytes"]["measured"] < 1024 and measured["writes_per_order"]["measured"] == 2.0
    assert figures["figures"]["process_per_record_ms"] > 0 and figures["figures"]["create_ms"] > 0
    assert figures["first_behind"].startswith("ParallelizationFactor 1, BatchSize 10: keeps up to")
    from orders_lib.planning.figures import PipelineFigures

    fed = PipelineFigures.from_file(reports / "capacity.json")  # what orders capacity --figures reads
    assert fed.create_ms == figures["figures"]["create_ms"] and fed.item_bytes == measured["item_bytes"]["measured"]
    assert set(figures["per_million"]) == {"10", "100", "1000", "10000"} and all(v > 0 for v in figures["per_million"].values())
    assert [row["quantity"] for row in figures["check"]] == ["PROCESSED orders/s", "IteratorAge, largest (s)"]
    for row in figures["check"]:  # the verdict shown is the one computed; agreement itself is reported, not asserted
        assert row["model"] > 0 and row["measured"] > 0
        assert row["agrees"] == (abs(row["ratio"] - 1) <= 0.25)
        if not row["agrees"]:
            assert "DISAGREES" in text

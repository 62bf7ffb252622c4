"""The run's index page: figures, a link per notebook report, the charts inline."""

from orders_lib.workbook.report import write_index


def test_index_shows_the_figures_links_each_report_and_inlines_the_charts(tmp_path):
    for name in ("01_deploy", "03_latency"):
        (tmp_path / f"{name}.html").write_text("<html></html>")
    (tmp_path / "operations.png").write_bytes(b"\x89PNG")
    summary = {
        "target": "sandbox",
        "notebooks": {"01_deploy": 6.1, "03_latency": 7.0, "04_dlq": 4.0},
        "orders": 106,
        "processed": 103,
        "notified": 103,
        "dlq_messages": 0,
        "latency": {
            "capacity_per_s": 48.5,
            "capacity_is_lower_bound": False,
            "sample": {"orders": 300, "rate_per_s": 24.2, "write_to_processed_ms": {"p50": 3.0, "p95": 6.0, "p99": 8.5}},
            "saturation": {"kept_up_per_s": 38.8, "fell_behind_per_s": 60.6},
        },
        "iam": {"mode": "enforce", "checked": 10, "refused": 0},
    }
    page = write_index(tmp_path, summary).read_text()
    assert "<td>106</td>" in page and "<th>IAM refusals</th><td>0</td>" in page
    assert "<th>write → PROCESSED p50 at 24.2 orders/s</th><td>3.0 ms</td>" in page
    assert "<th>write → PROCESSED p99 at 24.2 orders/s</th><td>8.5 ms</td>" in page
    assert "<th>capacity (short ramp)</th><td>48.5 orders/s</td>" in page
    assert "<th>falls behind (load sweep)</th><td>between 38.8 and 60.6 orders/s offered</td>" in page
    assert 'href="01_deploy.html"' in page and 'href="03_latency.html"' in page
    assert "04_dlq.html" not in page, "no link to a report that was not written"
    assert '<img src="operations.png"' in page and "throughput.png" not in page


def test_without_the_latency_notebook_the_index_says_latency_was_not_measured(tmp_path):
    page = write_index(tmp_path, {"target": "sandbox", "notebooks": {}, "orders": 5, "latency": {}}).read_text()
    assert "<th>write → PROCESSED latency</th><td>not measured (03_latency did not run)</td>" in page
    assert " p99" not in page

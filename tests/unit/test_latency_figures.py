"""03_latency's figures (latency.json): what the notebook writes, what the run's summary says of them."""

from __future__ import annotations

import pandas as pd

from orders_lib.ops.capacity import Capacity, Step
from orders_lib.ops.orders import BulkReport
from orders_lib.workbook.latency_figures import figures, headline, load, save


def sweep(offered, achieved):
    return pd.DataFrame({"offered_per_s": offered, "achieved_per_s": achieved, "orders": 40, "p50_ms": 10.0, "p99_ms": 90.0})


def test_the_figures_hold_the_sample_at_its_rate_and_the_saturation_apart(tmp_path):
    ramp = Capacity(48.0, 80.0, (Step(40.0, 80, 39.5, 30.0, 80.0), Step(80.0, 160, 48.0, 300.0, 500.0)), 9.5)
    timings = pd.DataFrame({"write → processed": [float(ms) for ms in range(1, 101)] + [float("nan")]})
    swept = sweep([24.0, 38.4, 60.0, 96.0], [24.0, 38.0, 47.0, 48.0])
    measured = figures(ramp, 24.0, False, BulkReport(created=100, seconds=4.0), timings, swept)
    assert measured["sample"] == {
        "orders": 100,
        "rate_per_s": 24.0,
        "rate_given": False,
        "written_per_s": 25.0,
        "write_to_processed_ms": {"p50": 50.0, "p95": 95.0, "p99": 99.0},
    }
    assert measured["capacity_per_s"] == 48.0 and not measured["capacity_is_lower_bound"]
    assert measured["saturation"] == {"kept_up_per_s": 38.4, "fell_behind_per_s": 60.0}
    assert load(save(tmp_path, measured).parent) == measured
    assert headline(measured) == [
        ("write → PROCESSED p50 at 24 orders/s", "50.0 ms"),
        ("write → PROCESSED p99 at 24 orders/s", "99.0 ms"),
        ("capacity (short ramp)", "48 orders/s"),
        ("falls behind (load sweep)", "between 38.4 and 60 orders/s offered"),
    ]


def test_a_pipeline_that_kept_up_throughout_reads_as_a_lower_bound():
    ramp = Capacity(160.0, None, (Step(160.0, 320, 160.0, 20.0, 60.0),), 10.0)
    timings = pd.DataFrame({"write → processed": [5.0, 6.0]})
    measured = figures(ramp, 50.0, False, BulkReport(created=2, seconds=0.04), timings, sweep([80.0, 320.0], [80.0, 300.0]))
    lines = dict(headline(measured))
    assert lines["capacity (short ramp)"] == "at least 160 orders/s"
    assert lines["falls behind (load sweep)"] == "kept up with every rate offered, up to 320 orders/s"
    measured["saturation"] = {"kept_up_per_s": None, "fell_behind_per_s": 10.0}
    assert dict(headline(measured))["falls behind (load sweep)"] == "fell behind at 10 orders/s offered, the lowest rate tried"


def test_nothing_measured_says_so(tmp_path):
    assert load(tmp_path) is None
    (tmp_path / "latency.json").write_text("{not json")
    assert load(tmp_path) is None
    assert headline(None) == headline({}) == [("write → PROCESSED latency", "not measured (03_latency did not run)")]

"""Reading a load sweep: where the pipeline falls behind, said from the numbers."""

import pandas as pd

from orders_lib.workbook.latency import load_reading, saturation, sweep_rates


def sweep(achieved):
    offered = [10.0, 25.0, 50.0, 100.0, 200.0]
    return pd.DataFrame(
        {
            "offered_per_s": offered,
            "achieved_per_s": achieved,
            "orders": [60] * 5,
            "p50_ms": [3.0, 3.5, 5.0, 40.0, 400.0],
            "p99_ms": [6.0, 8.0, 20.0, 300.0, 900.0],
        }
    )


def test_saturation_is_the_first_rate_not_kept_up_with():
    assert saturation(sweep([10.0, 24.5, 49.0, 80.0, 95.0])) == 100.0
    assert saturation(sweep([10.0, 25.0, 50.0, 99.0, 198.0])) is None


def test_the_reading_names_the_range_it_saturates_in():
    text = load_reading(sweep([10.0, 24.5, 49.0, 80.0, 95.0]))
    assert "kept up to 50 orders/s offered (p99 20.0 ms)" in text and "At 100/s it fell behind: 80 orders/s achieved" in text
    assert "saturates between 50 and 100 orders/s" in text
    assert "no saturation in this range" in load_reading(sweep([10.0, 25.0, 50.0, 99.0, 198.0]))
    assert load_reading(pd.DataFrame(columns=["offered_per_s", "achieved_per_s", "orders", "p50_ms", "p99_ms"])) == "No sweep was measured."


def test_the_sweep_brackets_the_capacity():
    assert sweep_rates(48.0) == (24.0, 38.4, 60.0, 96.0)
    assert sweep_rates(1.0, (0.5, 2.0)) == (1.0, 2.0)  # never below one order a second

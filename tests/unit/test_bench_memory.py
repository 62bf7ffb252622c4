import os

import pytest

from orders_lib.bench.memory import Reading, projection, rss_mb


def test_growth_between_two_readings_is_carried_forward_to_the_size_asked_for():
    result = projection([Reading(1_000, 200.0), Reading(3_000, 260.0)], 10_000)
    assert result["mb_per_1000_orders"] == 30.0
    assert result["rss_at_orders"] == 260.0 + 7 * 30.0
    assert result["how"] == "projected from 1,000 -> 3,000 orders"


def test_a_run_that_got_there_reports_what_it_read():
    result = projection([Reading(1_000, 200.0), Reading(12_000, 480.5)], 10_000)
    assert result["rss_at_orders"] == 480.5 and result["how"] == "read after 12,000 orders"


def test_readings_at_one_order_count_cannot_give_a_growth():
    with pytest.raises(ValueError, match="two readings"):
        projection([Reading(1_000, 200.0), Reading(1_000, 210.0)], 10_000)
    with pytest.raises(ValueError, match="two readings"):
        projection([Reading(1_000, 200.0)], 10_000)


def test_this_process_has_a_resident_size_and_a_gone_one_has_none():
    assert rss_mb(os.getpid()) > 10
    assert rss_mb(2**22 + 12345) == 0.0

"""The capacity ramp read from hand-made steps, and the sample rate chosen from it."""

from __future__ import annotations

import pytest

from orders_lib.ops.capacity import Step, capacity_of, processing_rate, sample_rate, step_of


def step(offered, achieved):
    return Step(offered, round(offered * 2), achieved, 10.0, 40.0)


def test_the_first_rate_not_kept_up_with_twice_gives_the_capacity():
    found = capacity_of([step(10, 10.0), step(20, 19.6), step(40, 31.5), step(40, 33.0)])
    assert found.orders_per_s == 33.0 and found.fell_behind_at == 40
    assert found.describe() == "33 orders/s (PROCESSED while 40/s were offered)"
    assert capacity_of([step(40, 31.5)], confirm=1).fell_behind_at == 40


def test_one_step_behind_followed_by_one_kept_up_with_is_noise():
    steps = [step(10, 10.0), step(20, 15.8), step(20, 20.0), step(40, 39.0), step(80, 52.0), step(80, 49.0)]
    found = capacity_of(steps)
    assert found.fell_behind_at == 80 and found.orders_per_s == 52.0
    assert capacity_of([step(20, 15.8), step(40, 30.0)]).fell_behind_at is None, "two rates, behind once each"


def test_just_under_the_threshold_is_kept_up_with():
    assert step(40, 36.0).kept_up and not step(40, 35.9).kept_up
    assert capacity_of([step(40, 36.0), step(80, 52.0), step(80, 50.0)]).orders_per_s == 52.0


def test_a_ramp_kept_up_with_throughout_gives_a_lower_bound():
    found = capacity_of([step(10, 10.1), step(20, 20.3), step(40, 39.0)])
    assert found.fell_behind_at is None and found.orders_per_s == 39.0
    assert found.describe().startswith("at least 39 orders/s")
    with pytest.raises(ValueError):
        capacity_of([])


def test_the_sample_runs_at_half_the_capacity_within_its_bounds_unless_a_rate_is_given():
    assert sample_rate(62.0) == 31.0
    assert sample_rate(300.0) == 50.0  # ceiling
    assert sample_rate(0.8) == 1.0 and sample_rate(None) == 1.0 and sample_rate(0.0) == 1.0  # floor
    assert sample_rate(62.0, given=80.0) == 80.0  # the user's rate, even above capacity
    with pytest.raises(ValueError):
        sample_rate(62.0, given=0.0)


def test_a_steady_stream_is_counted_at_its_rate_whatever_its_ends_do():
    times = [i / 25 for i in range(50)]  # 25/s for 2 s
    times[0], times[-1] = -0.5, times[-1] + 0.8  # one slow start, one late straggler
    assert processing_rate(times) == pytest.approx(25.0, rel=0.05)


def test_batches_sharing_one_time_are_counted_whole():
    times = [batch * 0.25 for batch in range(8) for _ in range(10)]  # 10 orders every 250 ms: 40/s
    assert processing_rate(times) == pytest.approx(40.0)
    assert processing_rate([1.0]) == 0.0 and processing_rate([1.0, 1.0, 1.0]) == 0.0


def test_a_step_reads_its_orders_stored_times():
    at = lambda i, ms: f"2026-01-01T00:00:{i // 10:02d}.{i % 10}{ms:02d}000Z"  # order i written at i/10 s
    items = [{"orderId": f"o{i}", "createdAt": at(i, 0), "processedAt": at(i, 20)} for i in range(30)]
    items.append({"orderId": "late", "createdAt": at(30, 0)})  # not PROCESSED: left out
    measured = step_of(10.0, items)
    assert measured.orders == 30 and measured.achieved_per_s == pytest.approx(10.0, rel=0.05)
    assert measured.p50_ms == pytest.approx(20.0) and measured.kept_up

"""The capacity model against hand-computed cases (orders_lib.planning.capacity_model).

The figures below make a batch of 10 take exactly 100 ms (50 ms + 5 ms a record), and an order
two writes of one unit each, so one partition (1,000 units/s) holds 500 orders/s.
"""

from dataclasses import replace

import pytest

from orders_lib.planning.capacity_model import (
    assess,
    batch_cycle,
    grid,
    limits_for,
    shard_capacity,
    stream_shards,
    sustainable_rate,
    sweep,
)
from orders_lib.planning.figures import MappingSettings, PipelineFigures, billed_ms, chunks, gb_seconds, read_units, write_units

FIGURES = PipelineFigures(create_ms=20, process_fixed_ms=50, process_per_record_ms=5, item_bytes=500)
ONE_SHARD = MappingSettings(batch_size=10, parallelization_factor=1, batching_window_s=0, min_shards=1)


def test_a_batch_of_ten_in_100_ms_holds_100_orders_a_second_per_concurrent_batch():
    assert FIGURES.process_ms(10) == 100
    assert shard_capacity(FIGURES, ONE_SHARD) == pytest.approx(100)
    assert sustainable_rate(FIGURES, ONE_SHARD) == pytest.approx(100)
    assert limits_for(FIGURES, ONE_SHARD)[0].name == "stream processing"


def test_just_below_the_capacity_keeps_up_and_just_above_falls_behind():
    below, above = assess(99.5, FIGURES, ONE_SHARD), assess(100.5, FIGURES, ONE_SHARD)
    assert below.keeps_up and below.age_growth_per_s == 0 and below.shards == 1
    assert not above.keeps_up and above.shards == 1
    assert above.processed_per_s == pytest.approx(100)
    assert above.age_growth_per_s == pytest.approx(1 - 100 / 100.5)
    assert above.setting == "raise ParallelizationFactor to 2"


def test_the_polling_interval_does_not_cap_a_shard_with_a_backlog():
    """Lambda polls 4 times a second, but reads again as soon as a batch is done: batches of one
    record taking 10 ms give 100 orders/s, not 4."""
    fast = replace(FIGURES, process_fixed_ms=5, process_per_record_ms=5)
    assert shard_capacity(fast, replace(ONE_SHARD, batch_size=1)) == pytest.approx(100)


def test_a_caught_up_shard_batches_what_arrives_between_polls_and_records_wait_half_a_poll_plus_the_batch():
    records, cycle = batch_cycle(10, FIGURES, ONE_SHARD)
    assert (records, cycle) == (pytest.approx(2.5), pytest.approx(0.25))  # 10/s × a quarter second
    verdict = assess(10, FIGURES, ONE_SHARD)
    assert verdict.batch_records == pytest.approx(2.5)
    assert verdict.lag_s == pytest.approx(0.125 + 0.0625)  # half a poll + a 62.5 ms batch


def test_a_batching_window_fills_batches_and_adds_its_wait():
    verdict = assess(10, FIGURES, replace(ONE_SHARD, batching_window_s=1))
    assert verdict.batch_records == pytest.approx(10)  # 10/s for the 1 s window
    assert verdict.lag_s == pytest.approx(0.125 + 1 + 0.1)


def test_parallelization_factor_4_quadruples_what_a_shard_processes():
    four = replace(ONE_SHARD, parallelization_factor=4)
    assert shard_capacity(FIGURES, four) == pytest.approx(400)
    assert sustainable_rate(FIGURES, four) == pytest.approx(400)
    assert assess(399, FIGURES, four).keeps_up
    late = assess(401, FIGURES, four)
    assert not late.keeps_up and late.shards == 1 and late.processed_per_s == pytest.approx(400)


def test_a_factor_4_is_still_bounded_by_the_accounts_concurrency():
    """30 ms of execution per order (20 ms CreateOrder + 100 ms / 10 ProcessOrder): 10 concurrent
    executions hold 333 orders/s, below the 400 the stream would take."""
    tight = replace(ONE_SHARD, parallelization_factor=4, account_concurrency=10)
    assert sustainable_rate(FIGURES, tight) == pytest.approx(1000 / 3)
    assert limits_for(FIGURES, tight)[0].name == "Lambda concurrency"
    verdict = assess(350, FIGURES, tight)
    assert not verdict.keeps_up
    assert "request a higher concurrent-executions quota" in verdict.setting


def test_shards_follow_the_partitions_the_writes_need():
    assert stream_shards(500, FIGURES, ONE_SHARD) == 1  # 1,000 write units/s: one partition
    assert stream_shards(501, FIGURES, ONE_SHARD) == 2
    assert stream_shards(2000, FIGURES, ONE_SHARD) == 4
    assert stream_shards(10, FIGURES, replace(ONE_SHARD, min_shards=4)) == 4


def test_the_setting_named_is_the_smallest_factor_that_holds_the_rate():
    verdict = assess(2000, FIGURES, ONE_SHARD)
    # 4 shards at 500 orders/s each: factor 5 makes a shard take 500/s
    assert not verdict.keeps_up and verdict.shards == 4 and verdict.processed_per_s == pytest.approx(400)
    assert verdict.setting == "raise ParallelizationFactor to 5"
    assert assess(2000, FIGURES, replace(ONE_SHARD, parallelization_factor=5)).keeps_up


def test_behind_the_iterator_age_grows_and_records_reach_the_dlq_once_an_hour_old():
    verdict = assess(200, FIGURES, ONE_SHARD)
    assert verdict.age_growth_per_s == pytest.approx(0.5)
    assert verdict.age_after(600) == pytest.approx(verdict.lag_s + 300)
    assert any("MaximumRecordAgeInSeconds (60 min) after 120 min" in note for note in verdict.notes)


def test_beyond_a_new_tables_write_units_the_ramp_is_noted():
    notes = assess(2500, FIGURES, replace(ONE_SHARD, parallelization_factor=10)).notes
    assert any("above the 4,000 a new on-demand table takes at once" in note for note in notes)


def test_sweeps_give_one_row_per_rate_and_per_setting():
    rates = sweep((50, 150), FIGURES, ONE_SHARD)
    assert list(rates["keeps_up"]) == [True, False]
    assert list(rates["age_after_10_min_s"].round(3)) == [round(assess(50, FIGURES, ONE_SHARD).lag_s, 3), pytest.approx(200.225, abs=1e-3)]
    table = grid((1, 4), (10,), FIGURES, ONE_SHARD, rate=300)
    assert list(table["sustainable_rate"]) == [pytest.approx(100), pytest.approx(400)]
    assert list(table["keeps_up"]) == [False, True]


@pytest.mark.parametrize(("size", "units"), [(1, 1), (1023, 1), (1024, 1), (1025, 2), (3584, 4)])
def test_write_units_round_the_item_up_to_whole_kilobytes(size, units):
    assert write_units(size) == units


def test_read_units_round_to_4_kb_and_halve_when_eventually_consistent():
    assert read_units(4096) == 1 and read_units(4097) == 2
    assert read_units(800, strongly_consistent=False) == 0.5


def test_sns_bills_a_request_per_started_64_kb_chunk():
    assert chunks(450) == 1
    assert chunks(65536) == 1
    assert chunks(65537) == 2
    assert chunks(10 * 450) == 1  # a PublishBatch of ten small notifications


def test_lambda_gb_seconds_for_256_mb_are_a_quarter_gb_times_billed_seconds():
    assert billed_ms(100.2) == 101 and billed_ms(100.0) == 100
    assert gb_seconds(256, 100) == pytest.approx(0.025)
    assert gb_seconds(256, 100.2) == pytest.approx(0.25 * 0.101)


def test_settings_outside_what_lambda_accepts_are_refused():
    with pytest.raises(ValueError, match="ParallelizationFactor is 1 to 10"):
        MappingSettings(parallelization_factor=11)
    with pytest.raises(ValueError, match="BatchSize"):
        MappingSettings(batch_size=0)
    with pytest.raises(ValueError, match="rate must be above 0"):
        assess(0)

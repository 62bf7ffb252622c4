"""The one percentile definition: weighted nearest rank, and its edge cases."""

import random

import pytest

from orders_lib.domain.percentiles import percentile

ONE_TO_HUNDRED = [float(v) for v in range(100, 0, -1)]  # unsorted on purpose


def test_nearest_rank_is_always_one_of_the_values():
    assert [percentile(ONE_TO_HUNDRED, s) for s in (0.5, 0.9, 0.99)] == [50.0, 90.0, 99.0]
    assert percentile([10.0, 20.0, 30.0, 40.0], 0.5) == 20.0  # not 25: no point between two values
    assert percentile([10.0, 20.0, 30.0, 40.0], 0.99) == 40.0
    assert percentile([7.0], 0.99) == 7.0


def test_decimal_shares_hit_their_rank_despite_binary_floating_point():
    assert 0.07 * 100 > 7  # why the definition has a tolerance
    assert percentile(ONE_TO_HUNDRED, 0.07) == 7.0
    assert percentile([float(v) for v in range(1, 1001)], 99.9 / 100) == 999.0


def test_p0_is_the_minimum_and_p100_the_maximum():
    assert percentile(ONE_TO_HUNDRED, 0) == 1.0
    assert percentile(ONE_TO_HUNDRED, 1) == 100.0
    assert percentile([3.0, 1.0, 2.0], 1, counts=[0.1, 0.1, 0.1]) == 3.0


def test_counts_weigh_each_value():
    assert percentile([100.0, 1.0], 0.5, counts=[5000, 1]) == 100.0
    assert percentile([100.0, 1.0], 0.0001, counts=[5000, 1]) == 1.0
    assert percentile([1.0, 2.0], 0.5, counts=[0.5, 0.5]) == 1.0  # cumulative 0.5 of 1.0 reaches the half
    assert percentile([1.0, 2.0], 0.5, counts=[0.4, 0.6]) == 2.0
    assert percentile([1.0, 2.0], 0.5, counts=[2.5, 0.5]) == 1.0


def test_integer_counts_equal_repeating_the_values():
    rng = random.Random(5)
    for _ in range(200):
        values = [float(rng.randint(0, 20)) for _ in range(rng.randint(1, 8))]
        counts = [rng.randint(1, 5) for _ in values]
        repeated = [v for v, c in zip(values, counts, strict=True) for _ in range(c)]
        share = rng.choice([0, 0.01, 0.25, 0.5, 0.9, 0.99, 1, rng.random()])
        assert percentile(values, share, counts) == percentile(repeated, share)


def test_zero_negative_and_infinite_counts_are_no_occurrence():
    assert percentile([1.0, 50.0, 99.0], 0.5, counts=[0, 1, -3]) == 50.0
    assert percentile([1.0, 50.0], 1, counts=[1, float("inf")]) == 1.0


@pytest.mark.parametrize(
    "values, share, counts",
    [
        ([], 0.5, None),
        ([1.0, 2.0], 0.5, [0, -1]),
        ([1.0], 1.5, None),
        ([1.0], -0.1, None),
        ([1.0], float("nan"), None),
        ([float("nan"), 1.0], 0.5, None),
        ([1.0, 2.0], 0.5, [1]),
    ],
)
def test_what_has_no_percentile_is_refused(values, share, counts):
    with pytest.raises(ValueError):
        percentile(values, share, counts)

"""The one percentile definition every figure of the project uses: ``orders create-bulk``,
``make bench``, the workbook's tables and charts, and the sandbox's CloudWatch ``pNN`` statistics.

Weighted nearest rank: the ``share`` percentile (0 <= share <= 1) of values, each occurring
``count`` times, is the smallest value whose cumulative count reaches ``share`` of the total count.
It is always one of the values (never a point between two), which is what CloudWatch's
percentiles approximate, and "p99 = 120 ms" then reads "99% of the requests took at most 120 ms".
Unweighted, it is the value at rank ``max(1, ceil(share * n))`` (1-based) of the sorted values.

Edge cases: p0 is the minimum and p100 the maximum; a share outside [0, 1], a NaN value or no
value with a positive count raises ``ValueError``. Counts are CloudWatch's ``Counts`` (how many
times each value occurred, possibly fractional); a count that is zero, negative or not finite
describes no occurrence and is ignored (AWS documents no meaning for one). A cumulative count
within 1e-9 of the total below ``share * total`` still reaches it, so that decimal shares written
in binary floating point hit their rank (0.07 * 100 is 7.000000000000001: p7 of 1..100 is 7, not 8).

Standard library only, so the sandbox and the command line import it without pandas, and it
sits in ``domain``, which the Lambda handlers may import.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable
from itertools import accumulate

TOLERANCE = 1e-9


def percentile(values: Iterable[float], share: float, counts: Iterable[float] | None = None) -> float:
    """Weighted nearest rank (see the module): the smallest value whose cumulative count reaches
    ``share`` (0..1) of the total; ``counts`` default to 1 each and must match ``values`` in length."""
    if not 0 <= share <= 1:  # NaN fails this too
        raise ValueError(f"share must be within [0, 1], not {share}")
    pairs = zip(values, counts, strict=True) if counts is not None else ((value, 1.0) for value in values)
    kept = []
    for value, count in pairs:
        if math.isnan(value):
            raise ValueError("a percentile of NaN is undefined")
        if count > 0 and math.isfinite(count):
            kept.append((value, count))
    if not kept:
        raise ValueError("no value with a positive count: no percentile")
    kept.sort()
    cumulative = list(accumulate(count for _, count in kept))
    total = cumulative[-1]
    rank = bisect_left(cumulative, share * total - TOLERANCE * total)
    return float(kept[min(rank, len(kept) - 1)][0])

"""Response-time histograms: the rollup keeps counts per bucket, the report reads percentiles from them.

Bucket i holds durations d with EDGES[i] <= d < EDGES[i + 1]; the last bucket is open-ended (60 days or
more). A percentile is found by nearest rank (the ceil(p * n)-th smallest duration), then placed inside its
bucket by linear interpolation, as if the bucket's durations were spread evenly over it (the k-th of
c sits at (k - 0.5) / c of the way through). So a reported median always lies in the same bucket as the exact median,
and is off by at most that bucket's width (1 min under 5 min, 5 min under 20 min, 15 min under 1 h,
30 min under 2 h, then 1-2 h up to 8 h, 4-8 h up to a day, then half a day to a few days).
The 1 h / 6 h / 24 h goals are bucket edges, and the rollup also counts them exactly.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence

MINUTE, HOUR, DAY = 60, 3600, 86400
EDGES: tuple[int, ...] = (
    0,
    1 * MINUTE,
    2 * MINUTE,
    5 * MINUTE,
    10 * MINUTE,
    15 * MINUTE,
    20 * MINUTE,
    30 * MINUTE,
    45 * MINUTE,
    1 * HOUR,
    90 * MINUTE,
    2 * HOUR,
    3 * HOUR,
    4 * HOUR,
    6 * HOUR,
    8 * HOUR,
    12 * HOUR,
    16 * HOUR,
    24 * HOUR,
    36 * HOUR,
    2 * DAY,
    3 * DAY,
    4 * DAY,
    5 * DAY,
    7 * DAY,
    10 * DAY,
    14 * DAY,
    21 * DAY,
    30 * DAY,
    60 * DAY,
)
SIZE = len(EDGES)


def bucket_of(seconds: float) -> int:
    """The index of the bucket holding this duration (negative durations count as 0)."""
    return max(0, bisect_right(EDGES, seconds) - 1)


def empty() -> list[int]:
    return [0] * SIZE


def add_into(total: list[int], counts: Sequence[int] | None) -> None:
    """Add a stored histogram into `total` (stored lists may be shorter: trailing zeros trimmed)."""
    for i, n in enumerate(counts or ()):
        total[i] += n


def trimmed(counts: Sequence[int]) -> list[int]:
    """Drop trailing zeros before storing."""
    end = len(counts)
    while end and not counts[end - 1]:
        end -= 1
    return list(counts[:end])


def percentile(counts: Sequence[int], p: float) -> float | None:
    """The p-th percentile (0 < p <= 1) of the durations in the histogram, in seconds; None if empty."""
    n = sum(counts)
    if not n:
        return None
    rank = max(1, math.ceil(p * n))
    seen = 0
    for i, c in enumerate(counts):
        if c and seen + c >= rank:
            lower = EDGES[i]
            if i + 1 >= SIZE:
                return float(lower)  # the open-ended bucket: at least this long
            upper = EDGES[i + 1]
            return lower + (upper - lower) * (rank - seen - 0.5) / c
        seen += c
    return float(EDGES[-1])


def histogram(durations: Iterable[float]) -> list[int]:
    """Counts per bucket for these durations (used by tests and by the rollup)."""
    counts = empty()
    for d in durations:
        counts[bucket_of(d)] += 1
    return counts

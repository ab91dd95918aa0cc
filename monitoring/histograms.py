"""Latency histograms with fixed buckets: what snapshots store, /metrics exposes and the
health page turns back into percentiles.

One bucket set serves all three measures (queue wait, run time, job end-to-end), from a
millisecond to a day: Prometheus needs the same upper bounds in every snapshot to add
them up, and so does merging snapshots into a 5 min / 1 h / 24 h window.
"""

import math

from prometheus_client.utils import floatToGoString

#: Upper bounds in seconds; a last, implicit bucket holds everything larger (+Inf).
BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60,
    120, 300, 600, 1800, 3600, 7200, 21600, 86400,
)


#: The `le` label of each bucket, as Prometheus writes it ("5.0", "+Inf").
LE_LABELS = [*(floatToGoString(bound) for bound in BUCKETS), "+Inf"]


def empty():
    return [0] * (len(BUCKETS) + 1)


def bucket_of(seconds):
    for i, bound in enumerate(BUCKETS):
        if seconds <= bound:
            return i
    return len(BUCKETS)


def add(counts, other):
    """Bucket counts added element-wise (counts from an older bucket set are ignored)."""
    if len(other) != len(counts):
        return counts
    return [a + b for a, b in zip(counts, other)]


def subtract(counts, earlier):
    """What was added between two cumulative histograms (all of `counts` if `earlier`
    has another bucket set)."""
    if len(earlier) != len(counts):
        return counts
    return [a - b for a, b in zip(counts, earlier)]


def quantile(q, counts):
    """The q-quantile estimated from bucket counts, interpolating linearly inside the
    bucket as Prometheus's histogram_quantile does; None for an empty histogram. A value
    in the +Inf bucket is reported as the largest finite bound."""
    total = sum(counts)
    if not total:
        return None
    rank = q * total
    seen = 0
    for i, n in enumerate(counts):
        if n and seen + n >= rank:
            if i == len(BUCKETS):
                return float(BUCKETS[-1])
            lower = BUCKETS[i - 1] if i else 0.0
            return lower + (BUCKETS[i] - lower) * (rank - seen) / n
        seen += n
    return float(BUCKETS[-1])


def exact_quantile(q, ordered):
    """The q-quantile of sorted values (nearest rank); None when empty."""
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]

"""Throughput, failures (their own axis, so a few do not vanish beside thousands of
successes) and latency over the last hour and the last day, from the snapshots.

The day is drawn in five-minute steps (288 points, not 1,440): rates are summed over
the step, latency percentiles take the step's worst minute so a spike stays visible.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.core.cache import cache

from monitoring.charts import Series, line_chart
from monitoring.models import Snapshot

TITLE = "History"
TEMPLATE = "monitoring/panels/charts.html"
#: (label, seconds shown, minutes per point)
RANGES = (("last hour", 3600, 1), ("last 24 hours", 86400, 5))
#: A snapshot covering more than this spans a gap (beat was down, or the first one,
#: which takes in all history): its rates are no figure for one moment, so the
#: throughput lines break there.
GAP_SECONDS = 600
#: Charts are rebuilt at most once a minute (snapshots come once a minute).
CACHE_SECONDS = 60
PERCENTILE_FIELDS = ("wait_p50", "wait_p95", "wait_p99", "run_p50", "run_p95", "run_p99")
FIELDS = ("period_end", "seconds", "subtasks_succeeded", "subtasks_failed", "jobs_finished", *PERCENTILE_FIELDS)


@dataclass
class Point:
    at: object
    seconds: float
    succeeded: int
    failed: int
    jobs: int
    percentiles: dict


def context(now):
    """The charts change only when a snapshot is written (once a minute): they are
    computed once per new snapshot and minute, then served from the cache."""
    newest = Snapshot.objects.order_by("-period_end").values_list("period_end", flat=True).first()
    key = f"monitoring:charts:{newest.isoformat() if newest else 'none'}:{now:%Y%m%d%H%M}"
    return cache.get_or_set(key, lambda: _build(now), CACHE_SECONDS)


def _build(now):
    longest = max(seconds for _, seconds, _ in RANGES)
    rows = (
        Snapshot.objects.filter(period_end__gt=now - timedelta(seconds=longest))
        .order_by("period_end")
        .values_list(*FIELDS)
    )
    points = [
        Point(at, seconds, succeeded, failed, jobs, dict(zip(PERCENTILE_FIELDS, percentiles)))
        for at, seconds, succeeded, failed, jobs, *percentiles in rows
    ]
    ranges = []
    for label, seconds, step in RANGES:
        start = now - timedelta(seconds=seconds)
        shown = _downsample([p for p in points if p.at > start], step)
        ranges.append(_charts(label, shown, start, now))
    return {"ranges": ranges}


def _downsample(points, minutes):
    if minutes == 1:
        return points
    merged = []
    for point in points:
        bucket = point.at.replace(minute=point.at.minute - point.at.minute % minutes, second=0, microsecond=0)
        if merged and merged[-1].at == bucket:
            last = merged[-1]
            last.seconds += point.seconds
            last.succeeded += point.succeeded
            last.failed += point.failed
            last.jobs += point.jobs
            for name, value in point.percentiles.items():
                if value is not None and (last.percentiles[name] is None or value > last.percentiles[name]):
                    last.percentiles[name] = value
        else:
            merged.append(Point(bucket, point.seconds, point.succeeded, point.failed, point.jobs, dict(point.percentiles)))
    return merged


def _charts(label, points, start, end):
    def series(name, value):
        return Series(name, [(p.at, value(p)) for p in points])

    def rate(name, count, per):
        return series(name, lambda p: None if p.seconds > GAP_SECONDS else count(p) * per / p.seconds)

    def percentiles(prefix):
        return [series(q, lambda p, q=q: p.percentiles[f"{prefix}_{q}"]) for q in ("p50", "p95", "p99")]

    return {
        "label": label,
        "charts": [
            line_chart("Throughput", "per second / per minute", [
                rate("succeeded subtasks/s", lambda p: p.succeeded, 1),
                rate("jobs/min", lambda p: p.jobs, 60),
            ], start, end),
            line_chart("Failures", "subtasks/s", [rate("failed subtasks/s", lambda p: p.failed, 1)], start, end),
            line_chart("Run time", "seconds", percentiles("run"), start, end),
            line_chart("Queue wait", "seconds", percentiles("wait"), start, end),
        ],
    }

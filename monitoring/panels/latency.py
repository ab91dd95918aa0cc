"""p50 / p95 / p99 of queue wait, run time and job end-to-end, per queue and job type,
over 5 min / 1 h / 24 h, estimated from histograms as Prometheus's histogram_quantile
does. Snapshots carry cumulative histograms, so a window is the newest snapshot minus
the newest one at least the window older than now: four one-row reads on the period_end
index. Before a window's start has a snapshot, it reaches back to the beginning."""

from datetime import timedelta

from monitoring import histograms
from monitoring.history import MEASURES, split_series_key
from monitoring.models import Snapshot

TITLE = "Latency"
TEMPLATE = "monitoring/panels/latency.html"
WINDOWS = (("5 min", 300), ("1 h", 3600), ("24 h", 86400))
QUANTILES = (0.5, 0.95, 0.99)
MEASURE_LABELS = ["queue wait", "run time", "job end-to-end"]


def context(now):
    newest = Snapshot.objects.order_by("-period_end").values_list("histograms", flat=True).first()
    if newest is None:
        return {"rows": [], "measures": MEASURE_LABELS}
    windows = [
        (label, _difference(newest, _histograms_at(now - timedelta(seconds=seconds)) or {}))
        for label, seconds in WINDOWS
    ]
    keys = sorted({key for series in newest.values() for key in series})
    rows = []
    for key in keys:
        queue, job_type = split_series_key(key)
        for label, window in windows:
            cells = [_quantiles(window.get(measure, {}).get(key)) for measure in MEASURES]
            if any(cells):
                rows.append({"queue": queue, "type": job_type, "window": label, "cells": cells})
    return {"rows": rows, "measures": MEASURE_LABELS}


def _histograms_at(moment):
    """Cumulative histograms of the newest snapshot ending at or before `moment`."""
    return (
        Snapshot.objects.filter(period_end__lte=moment)
        .order_by("-period_end")
        .values_list("histograms", flat=True)
        .first()
    )


def _difference(newer, older):
    result = {}
    for measure, series in newer.items():
        before = older.get(measure, {})
        result[measure] = {
            key: histograms.subtract(counts, before.get(key, histograms.empty())) for key, counts in series.items()
        }
    return result


def _quantiles(counts):
    if not counts or not sum(counts):
        return None
    return {"n": sum(counts), "values": [histograms.quantile(q, counts) for q in QUANTILES]}

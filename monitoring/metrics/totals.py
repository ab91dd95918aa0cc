"""Counters and histograms from the running totals the snapshots keep (monitoring.history).

They lag the rows by a minute or two (a minute is counted once it has closed) and never
go down: pruning snapshots or jobs leaves the totals alone.
"""

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

from monitoring import histograms
from monitoring.history import HISTOGRAM_METRICS
from monitoring.models import MetricTotal

COUNTERS = {
    "lepton_jobs_submitted_total": ("Jobs submitted.", ["type", "queue"]),
    "lepton_jobs_finished_total": ("Jobs that reached a final status (outcome).", ["type", "queue", "outcome"]),
    "lepton_subtasks_finished_total": (
        "Subtasks that reached a final status (outcome).", ["type", "queue", "outcome"],
    ),
    "lepton_subtask_retries_total": ("Extra attempts of subtasks, counted when they finish.", []),
    "lepton_recovery_events_total": ("Healing actions and fenced writes (RecoveryEvent kinds).", ["kind"]),
}
HISTOGRAM_HELP = {
    "lepton_subtask_queue_wait_seconds": "Seconds from a subtask being queued to a worker starting it.",
    "lepton_subtask_run_seconds": "Seconds a subtask attempt ran, for finished subtasks.",
    "lepton_job_duration_seconds": "Seconds from submission to a final status, per job.",
}


def families(now):
    by_metric = {}
    for total in MetricTotal.objects.all():
        by_metric.setdefault(total.metric, []).append(total)
    for name, (help_text, labels) in COUNTERS.items():
        family = CounterMetricFamily(name, help_text, labels=labels)
        rows = by_metric.get(name, [])
        if not labels and not rows:
            family.add_metric([], 0)
        for row in rows:
            family.add_metric([row.labels[label] for label in labels], row.value)
        yield family
    for name in HISTOGRAM_METRICS.values():
        yield _histogram(name, by_metric.get(f"{name}_bucket", []), by_metric.get(f"{name}_sum", []))


def _histogram(name, bucket_rows, sum_rows):
    family = HistogramMetricFamily(name, HISTOGRAM_HELP[name], labels=["type", "queue"])
    counts = {}
    for row in bucket_rows:
        series = (row.labels["type"], row.labels["queue"])
        per_bound = counts.setdefault(series, dict.fromkeys(histograms.LE_LABELS, 0))
        if row.labels["le"] in per_bound:  # totals of a retired bucket set are left out
            per_bound[row.labels["le"]] += row.value
    sums = {(row.labels["type"], row.labels["queue"]): row.value for row in sum_rows}
    for series, per_bound in sorted(counts.items()):
        cumulative, buckets = 0, []
        for bound in histograms.LE_LABELS:
            cumulative += per_bound[bound]
            buckets.append((bound, cumulative))
        family.add_metric(list(series), buckets, sums.get(series, 0.0))
    return family

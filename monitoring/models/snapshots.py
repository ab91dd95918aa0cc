"""History that survives restarts: per-minute snapshots and the metric running totals.

A snapshot covers a closed period (normally one minute; after beat was down, the whole
gap in one row) and records the gauges as they were when it was taken and what happened
in the period: counts by label set and latency histograms. Snapshots are pruned by
LEPTON_SNAPSHOT_RETENTION_DAYS; the totals are only ever added to, in the same
transaction that writes the snapshot, so /metrics counters never go down when rows are
pruned (ARCHITECTURE invariant 12) and no period is counted twice (unique period_start).
"""

from django.db import models


class Snapshot(models.Model):
    period_start = models.DateTimeField(unique=True)
    #: The period is [period_start, period_end); charts plot it at period_end.
    period_end = models.DateTimeField(db_index=True)
    taken_at = models.DateTimeField()
    #: {queue: {"depth", "outstanding", "oldest_waiting_seconds", "consumers"}} at taken_at.
    queues = models.JSONField(default=dict)
    #: {state: number of workers} at taken_at.
    workers = models.JSONField(default=dict)
    subtasks_succeeded = models.PositiveIntegerField(default=0)
    subtasks_failed = models.PositiveIntegerField(default=0)
    jobs_finished = models.PositiveIntegerField(default=0)
    #: Percentiles of the period, exact (from every finished row), for the charts; null
    #: when nothing finished. queue wait = started - queued, run = finished - started
    #: (subtasks), job = finished - created.
    wait_p50 = models.FloatField(null=True, blank=True)
    wait_p95 = models.FloatField(null=True, blank=True)
    wait_p99 = models.FloatField(null=True, blank=True)
    run_p50 = models.FloatField(null=True, blank=True)
    run_p95 = models.FloatField(null=True, blank=True)
    run_p99 = models.FloatField(null=True, blank=True)
    job_p50 = models.FloatField(null=True, blank=True)
    job_p95 = models.FloatField(null=True, blank=True)
    job_p99 = models.FloatField(null=True, blank=True)
    #: Cumulative latency histograms up to period_end, {measure: {"<queue>|<type>":
    #: [count per bucket of monitoring.histograms.BUCKETS, +Inf]}}: any window's
    #: histogram is the newest row's minus the row at the window's start, two rows
    #: whatever the window (as Prometheus's increase() does).
    histograms = models.JSONField(default=dict)
    #: Length of the period in seconds, stored so charts need not parse period_start.
    seconds = models.FloatField(default=60.0)

    class Meta:
        ordering = ["-period_end"]
        permissions = [("view_health", "Can view the health page")]

    def __str__(self):
        return f"snapshot {self.period_start:%Y-%m-%d %H:%M}-{self.period_end:%H:%M}"


class MetricTotal(models.Model):
    """A running total behind a Prometheus counter or histogram series, by label set."""

    metric = models.CharField(max_length=128)
    #: Canonical "name=value,name=value" (sorted), unique per metric.
    key = models.CharField(max_length=512)
    labels = models.JSONField(default=dict)
    value = models.FloatField(default=0)

    class Meta:
        ordering = ["metric", "key"]
        constraints = [models.UniqueConstraint(fields=["metric", "key"], name="metric_total_unique")]

    def __str__(self):
        return f"{self.metric}{{{self.key}}} = {self.value:g}"

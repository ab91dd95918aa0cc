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
    #: {measure: {"p50", "p95", "p99"}} over the period, measures queue_wait, run, job.
    latency = models.JSONField(default=dict)
    #: {measure: {"<queue>|<type>": [count per bucket of monitoring.histograms.BUCKETS, +Inf]}}.
    histograms = models.JSONField(default=dict)

    class Meta:
        ordering = ["-period_end"]
        permissions = [("view_health", "Can view the health page")]

    def __str__(self):
        return f"snapshot {self.period_start:%Y-%m-%d %H:%M}-{self.period_end:%H:%M}"

    @property
    def seconds(self):
        return max(1.0, (self.period_end - self.period_start).total_seconds())


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

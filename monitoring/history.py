"""Per-minute snapshots: what the charts draw and what the /metrics counters add up.

Each pass closes the minutes that ended at least SETTLE_SECONDS ago (so rows stamped just
before the boundary have been committed) and writes one Snapshot covering everything
since the previous one: normally one minute, after beat was down the whole gap, so
counters miss nothing and the work per pass stays a few indexed range queries
(finished_at / created_at indexes). Run by beat on the control queue, single-flight.
"""

import logging
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone as dt_timezone

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F

from jobs.jobtypes.canary import Canary
from jobs.models import Job, RecoveryEvent, Subtask
from monitoring import figures, histograms
from monitoring.models import MetricTotal, Snapshot

log = logging.getLogger(__name__)

#: A minute is closed this long after it ends: completions stamped inside it are committed.
SETTLE_SECONDS = 30
#: Where the very first snapshot starts: it takes in all history, so counters start complete.
BEGINNING = datetime(2000, 1, 1, tzinfo=dt_timezone.utc)
MEASURES = ("queue_wait", "run", "job")
#: The Prometheus histogram behind each measure.
HISTOGRAM_METRICS = {
    "queue_wait": "lepton_subtask_queue_wait_seconds",
    "run": "lepton_subtask_run_seconds",
    "job": "lepton_job_duration_seconds",
}
SERIES_SEPARATOR = "|"
MAX_PERCENTILE_PERIOD = timedelta(minutes=10)
PERCENTILES = (0.5, 0.95, 0.99)
#: Snapshot field prefix of each measure's percentiles.
PERCENTILE_PREFIX = {"queue_wait": "wait", "run": "run", "job": "job"}


def record(now):
    """Write the snapshot of the closed minutes not yet recorded and prune old ones;
    the new Snapshot, or None when no minute has closed since the last pass."""
    snapshot = take(now)
    prune(now)
    return snapshot


def take(now):
    end = (now - timedelta(seconds=SETTLE_SECONDS)).replace(second=0, microsecond=0)
    previous = Snapshot.objects.order_by("-period_end").values("period_end", "histograms").first()
    start = previous["period_end"] if previous else BEGINNING
    if end <= start:
        return None
    period = _Period(start, end)
    period.count_jobs()
    period.count_subtasks()
    period.count_recovery_events()
    queues = figures.queue_figures(now)
    workers = Counter(worker.state for worker in figures.worker_figures(now))
    with transaction.atomic():
        snapshot = Snapshot.objects.create(
            period_start=start,
            period_end=end,
            taken_at=now,
            queues={name: _queue_row(q) for name, q in queues.items()},
            workers={state: workers.get(state, 0) for state in figures.WORKER_STATES},
            subtasks_succeeded=period.subtask_outcomes[Subtask.Status.SUCCEEDED],
            subtasks_failed=period.subtask_outcomes[Subtask.Status.FAILED],
            jobs_finished=period.jobs_finished,
            seconds=(end - start).total_seconds(),
            histograms=cumulative(previous["histograms"] if previous else {}, period.histograms),
            **period.percentiles(),
        )
        add_to_totals(period.totals())
    log.info("event=snapshot_taken start=%s end=%s", start.isoformat(), end.isoformat())
    return snapshot


def prune(now):
    """Snapshots past LEPTON_SNAPSHOT_RETENTION_DAYS go; the totals they fed stay."""
    horizon = now - timedelta(days=settings.LEPTON_SNAPSHOT_RETENTION_DAYS)
    deleted, _ = Snapshot.objects.filter(period_end__lt=horizon).delete()
    return deleted


def _queue_row(q):
    return {
        "depth": q.depth, "outstanding": q.outstanding,
        "oldest_waiting_seconds": q.oldest_waiting_seconds, "consumers": q.consumers,
    }


def series_key(queue, job_type):
    return f"{queue}{SERIES_SEPARATOR}{job_type}"


def split_series_key(key):
    queue, _, job_type = key.partition(SERIES_SEPARATOR)
    return queue, job_type


class _Period:
    """What happened in [start, end): counts by label set, latencies, histograms. The
    platform's own canary jobs are left out: they are measured on their own (CanaryRun)."""

    def __init__(self, start, end):
        self.start, self.end = start, end
        self.counts = Counter()  # (metric, frozenset of label items) -> increment
        self.subtask_outcomes = Counter()
        self.jobs_finished = 0
        # measure -> seconds, for exact per-period percentiles; not kept for a period
        # that spans a gap (the first one takes in all history), whose percentiles would
        # describe no moment and whose values could fill memory.
        self.values = defaultdict(list) if end - start <= MAX_PERCENTILE_PERIOD else None
        self.histograms = defaultdict(lambda: defaultdict(histograms.empty))
        self.sums = Counter()  # (measure, series key) -> seconds

    def _count(self, metric, n=1, **labels):
        self.counts[(metric, tuple(sorted(labels.items())))] += n

    def _observe(self, measure, queue, job_type, seconds):
        seconds = max(0.0, seconds)
        key = series_key(queue, job_type)
        self.histograms[measure][key][histograms.bucket_of(seconds)] += 1
        self.sums[(measure, key)] += seconds
        if self.values is not None:
            self.values[measure].append(seconds)

    def count_jobs(self):
        submitted = (
            Job.objects.filter(created_at__gte=self.start, created_at__lt=self.end)
            .exclude(type=Canary.name)
            .values("type", "queue").annotate(n=Count("*")).order_by()
        )
        for row in submitted:
            self._count("lepton_jobs_submitted_total", row["n"], type=row["type"], queue=row["queue"])
        finished = Job.objects.filter(
            finished_at__gte=self.start, finished_at__lt=self.end, status__in=Job.FINAL
        ).exclude(type=Canary.name).values_list("type", "queue", "status", "created_at", "finished_at")
        for job_type, queue, status, created_at, finished_at in finished.iterator(chunk_size=2000):
            self.jobs_finished += 1
            self._count("lepton_jobs_finished_total", type=job_type, queue=queue, outcome=status)
            self._observe("job", queue, job_type, (finished_at - created_at).total_seconds())

    def count_subtasks(self):
        finished = Subtask.objects.filter(finished_at__gte=self.start, finished_at__lt=self.end).exclude(
            job__type=Canary.name
        ).values_list(
            "job__type", "job__queue", "status", "tries", "queued_at", "started_at", "finished_at"
        )
        for job_type, queue, status, tries, queued_at, started_at, finished_at in finished.iterator(chunk_size=2000):
            self.subtask_outcomes[status] += 1
            self._count("lepton_subtasks_finished_total", type=job_type, queue=queue, outcome=status)
            if tries > 1:
                self._count("lepton_subtask_retries_total", tries - 1)
            if started_at is None:
                continue  # canceled before it ran
            if queued_at is not None:
                self._observe("queue_wait", queue, job_type, (started_at - queued_at).total_seconds())
            self._observe("run", queue, job_type, (finished_at - started_at).total_seconds())

    def count_recovery_events(self):
        events = (
            RecoveryEvent.objects.filter(created_at__gte=self.start, created_at__lt=self.end)
            .values("kind").annotate(n=Count("*")).order_by()
        )
        for row in events:
            self._count("lepton_recovery_events_total", row["n"], kind=row["kind"])

    def percentiles(self):
        """{"wait_p50": seconds or None, ...}: the Snapshot's percentile fields."""
        result = {}
        for measure in MEASURES:
            ordered = sorted(self.values.get(measure, ())) if self.values is not None else []
            for q in PERCENTILES:
                result[f"{PERCENTILE_PREFIX[measure]}_p{int(q * 100)}"] = histograms.exact_quantile(q, ordered)
        return result

    def totals(self):
        """(metric, labels, increment) for every non-zero increment in the period."""
        for (metric, items), n in self.counts.items():
            yield metric, dict(items), n
        for measure, series in self.histograms.items():
            metric = HISTOGRAM_METRICS[measure]
            for key, counts in series.items():
                queue, job_type = split_series_key(key)
                for le, n in zip(histograms.LE_LABELS, counts):
                    if n:
                        yield f"{metric}_bucket", {"type": job_type, "queue": queue, "le": le}, n
                yield f"{metric}_sum", {"type": job_type, "queue": queue}, self.sums[(measure, key)]


def cumulative(before, period):
    """Histograms up to the end of this period: the previous snapshot's plus this period's."""
    result = {measure: dict(series) for measure, series in before.items()}
    for measure, series in period.items():
        mine = result.setdefault(measure, {})
        for key, counts in series.items():
            mine[key] = histograms.add(mine.get(key, histograms.empty()), counts)
    return result


def total_key(labels):
    return ",".join(f"{name}={value}" for name, value in sorted(labels.items()))


def add_to_totals(increments):
    """Add each increment to its running total (one UPDATE, or an INSERT the first time).
    Called inside the snapshot's transaction: the totals move with the snapshot or not at all."""
    for metric, labels, n in increments:
        key = total_key(labels)
        if not MetricTotal.objects.filter(metric=metric, key=key).update(value=F("value") + n):
            MetricTotal.objects.create(metric=metric, key=key, labels=labels, value=n)

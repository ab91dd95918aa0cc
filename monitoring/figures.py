"""The figures every monitoring face reads: queues, workers, failure ratio, reconciler.

The health page, /metrics, /readyz, snapshots and alert rules all call these, so they
agree. Each function is a handful of indexed queries whatever the number of rows:
outstanding work comes from active job rows (`jobs.load`), the oldest waiting subtask
from the partial index on queued subtasks, per-worker counts from the running-lease
index and the per-minute WorkerMinute rows.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min, Sum

from jobs import load
from jobs.models import Housekeeping, RecoveryEvent, Subtask, Worker, WorkerMinute
from monitoring import broker

log = logging.getLogger(__name__)

#: Worker states, in the order the health page lists them.
ONLINE, DRAINING, QUARANTINED, STALE, GONE = "online", "draining", "quarantined", "stale", "gone"
WORKER_STATES = (ONLINE, DRAINING, QUARANTINED, STALE, GONE)


@dataclass(frozen=True)
class QueueFigures:
    queue: str
    #: Messages waiting in the broker; None when the broker cannot be reached.
    depth: int | None
    #: Unfinished subtasks of active jobs on this queue, from the rows.
    outstanding: int
    #: Seconds the oldest queued subtask has waited for a worker to claim it.
    oldest_waiting_seconds: float | None
    #: Live, not quarantined workers consuming this queue now.
    consumers: int


@dataclass(frozen=True)
class WorkerFigures:
    hostname: str
    queues: list
    consuming: list
    concurrency: int
    state: str
    #: Seconds since the last heartbeat.
    heartbeat_age: float
    running: int
    #: Attempts and failed attempts in the P_n window (LEPTON_QUARANTINE_WINDOW_SECONDS).
    attempted: int
    failed: int
    #: failed / attempted in the window; None without attempts.
    p_n: float | None
    #: Attempts that succeeded in the window.
    done: int
    #: Why a gone worker went; empty otherwise.
    gone_reason: str


def queue_figures(now) -> dict[str, QueueFigures]:
    """{queue: QueueFigures} for every job queue and the control queue."""
    depths = _broker_depths()
    outstanding = load.outstanding_by_queue()
    oldest = _oldest_queued_by_queue()
    consumers = _consumers_by_queue(now)
    figures = {}
    for queue in [*settings.LEPTON_QUEUES, settings.CONTROL_QUEUE]:
        queued_at = oldest.get(queue)
        figures[queue] = QueueFigures(
            queue=queue,
            depth=None if depths is None else depths.get(queue, 0),
            outstanding=outstanding.get(queue, {}).get("subtasks", 0),
            oldest_waiting_seconds=None if queued_at is None else max(0.0, (now - queued_at).total_seconds()),
            consumers=consumers.get(queue, 0),
        )
    return figures


def _broker_depths():
    try:
        broker.ping()
        return load.broker_depths()
    except Exception as exc:  # the broker being down is a figure too (readiness reports it)
        log.warning("event=broker_depths_unavailable error=%r", exc)
        return None


def _oldest_queued_by_queue():
    """{queue: queued_at of its oldest queued subtask}; reads only queued rows
    (the `subtask_queued_since` partial index), which the dispatch window keeps few."""
    rows = (
        Subtask.objects.filter(status=Subtask.Status.QUEUED)
        .values("job__queue")
        .annotate(oldest=Min("queued_at"))
        .order_by()
    )
    return {row["job__queue"]: row["oldest"] for row in rows if row["oldest"] is not None}


def _consumers_by_queue(now):
    counts = {}
    for worker in _live_workers(now):
        if not _in_quarantine(worker, now):
            for queue in worker.consuming:
                counts[queue] = counts.get(queue, 0) + 1
    return counts


def _live_horizon(now):
    return now - timedelta(seconds=3 * settings.LEPTON_WORKER_HEARTBEAT_SECONDS)


def _live_workers(now):
    return Worker.objects.filter(last_seen_at__gte=_live_horizon(now))


def _in_quarantine(worker, now):
    return worker.quarantined_until is not None and worker.quarantined_until > now


def worker_figures(now) -> list[WorkerFigures]:
    """Every worker seen within LEPTON_HEALTH_GONE_FOLD_SECONDS; older gone workers fold away."""
    workers = list(
        Worker.objects.filter(last_seen_at__gte=now - timedelta(seconds=settings.LEPTON_HEALTH_GONE_FOLD_SECONDS))
    )
    running = dict(
        Subtask.objects.filter(status=Subtask.Status.RUNNING)
        .values_list("worker")
        .annotate(n=Count("*"))
        .order_by()
    )
    window_start = (now - timedelta(seconds=settings.LEPTON_QUARANTINE_WINDOW_SECONDS)).replace(second=0, microsecond=0)
    minutes = {
        row["hostname"]: row
        for row in WorkerMinute.objects.filter(minute__gte=window_start)
        .values("hostname")
        .annotate(attempted=Sum("attempted"), failed=Sum("failed"), succeeded=Sum("succeeded"))
        .order_by()
    }
    states = {worker.hostname: worker_state(worker, now) for worker in workers}
    handed_back = _handed_back_since_start([w for w in workers if states[w.hostname] == GONE])
    figures = []
    for worker in workers:
        counts = minutes.get(worker.hostname, {})
        attempted, failed = counts.get("attempted") or 0, counts.get("failed") or 0
        state = states[worker.hostname]
        figures.append(
            WorkerFigures(
                hostname=worker.hostname,
                queues=list(worker.queues),
                consuming=list(worker.consuming),
                concurrency=worker.concurrency,
                state=state,
                heartbeat_age=max(0.0, (now - worker.last_seen_at).total_seconds()),
                running=running.get(worker.hostname, 0),
                attempted=attempted,
                failed=failed,
                p_n=failed / attempted if attempted else None,
                done=counts.get("succeeded") or 0,
                gone_reason=gone_reason(worker, handed_back.get(worker.hostname, 0)) if state == GONE else "",
            )
        )
    return figures


def worker_state(worker, now):
    """online / draining / quarantined while heartbeats are fresh (three beats); stale
    while silent up to LEPTON_HEALTH_WORKER_GONE_SECONDS; gone after."""
    silent = (now - worker.last_seen_at).total_seconds()
    if silent > settings.LEPTON_HEALTH_WORKER_GONE_SECONDS:
        return GONE
    if worker.last_seen_at < _live_horizon(now):
        return STALE
    if _in_quarantine(worker, now):
        return QUARANTINED
    if worker.queues and not worker.consuming:
        # Consumers cancelled outside a quarantine: shutting down, or taken off by an operator.
        return DRAINING
    return ONLINE


def gone_reason(worker, handed_back):
    """Why a worker whose heartbeats stopped went, from what it left on the rows."""
    if worker.quarantined_until is not None and worker.quarantined_until > worker.last_seen_at:
        return f"went silent in quarantine ({worker.quarantine_reason or 'no reason recorded'})"
    if handed_back:
        return f"shut down; handed back {handed_back} running subtask(s)"
    # A warm shutdown with nothing running leaves no row behind, so it reads the same
    # as a crash here.
    return (
        f"heartbeat timeout: silent since {worker.last_seen_at:%Y-%m-%d %H:%M:%S} UTC "
        "(crashed, or stopped with nothing running)"
    )


def _handed_back_since_start(workers):
    """{hostname: subtasks it handed back on shutdown since it last started}, one query."""
    if not workers:
        return {}
    started = {w.hostname: w.started_at for w in workers}
    rows = RecoveryEvent.objects.filter(
        kind=RecoveryEvent.Kind.HANDED_BACK,
        created_at__gte=min(started.values()),
        worker__in=list(started),
    ).values_list("worker", "created_at")
    counts = {}
    for hostname, created_at in rows:
        if created_at >= started[hostname]:
            counts[hostname] = counts.get(hostname, 0) + 1
    return counts


def failure_ratio(now, seconds) -> float | None:
    """Failed / finished (succeeded or failed) subtasks that finished in the last `seconds`;
    None when none finished. Canceled subtasks never ran and do not count."""
    counts = dict(
        Subtask.objects.filter(
            finished_at__gt=now - timedelta(seconds=seconds),
            finished_at__lte=now,
            status__in=[Subtask.Status.SUCCEEDED, Subtask.Status.FAILED],
        )
        .values_list("status")
        .annotate(n=Count("*"))
        .order_by()
    )
    finished = sum(counts.values())
    return counts.get(Subtask.Status.FAILED, 0) / finished if finished else None


def reconciler_last_success() -> datetime | None:
    """When a reconciler pass last succeeded (jobs.singleflight stamps it), or None."""
    return (
        Housekeeping.objects.filter(name="reconcile").values_list("last_succeeded_at", flat=True).first()
    )

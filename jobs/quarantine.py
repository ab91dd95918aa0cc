"""Flaky-node quarantine: take a worker that fails far more often than its peers off its
queues for a cool-down, then let it back (the seed's "node switching").

Per worker, P_n = failed / attempted over a sliding window of WorkerMinute rows. A worker
is quarantined when P_n is over LEPTON_QUARANTINE_THRESHOLD with at least
LEPTON_QUARANTINE_MIN_ATTEMPTS attempts, and more than twice the rest of the fleet's rate
— so one poison job failing everywhere does not empty the fleet — but never when it is
the last healthy consumer of one of its queues. Quarantine is Celery's cancel_consumer;
review() re-sends consumer commands until each worker's reported queues match its state,
so a restarted or briefly unreachable worker converges too.
"""

import logging
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db.models import Q, Sum

from jobs.clock import Now, db_now
from jobs.models import Worker, WorkerMinute
from jobs.workers import live_workers

log = logging.getLogger(__name__)


def failure_rates(since):
    """{hostname: (attempted, failed)} over WorkerMinute rows from `since`."""
    rows = (
        WorkerMinute.objects.filter(minute__gte=since.replace(second=0, microsecond=0))
        .values("hostname")
        .annotate(attempted=Sum("attempted"), failed=Sum("failed"))
    )
    return {row["hostname"]: (row["attempted"], row["failed"]) for row in rows}


def review(now=None):
    """Quarantine the flaky, release the cooled-down, and make consumers match. Returns
    the hostnames quarantined in this pass."""
    now = now or db_now()
    workers = live_workers(now)
    release_last_consumers(workers, now)
    quarantined = []
    for worker in workers:
        reason = reason_to_quarantine(worker, workers, now)
        if reason is None:
            continue
        worker.quarantined_until = now + timedelta(seconds=settings.LEPTON_QUARANTINE_COOLDOWN_SECONDS)
        Worker.objects.filter(pk=worker.pk).update(
            quarantined_until=worker.quarantined_until, quarantine_reason=reason
        )
        quarantined.append(worker.hostname)
        log.warning("event=worker_quarantined worker=%s reason=%r", worker.hostname, reason)
    for worker in workers:
        _converge(worker, now)
    return quarantined


def release_last_consumers(workers, now):
    """Release at once a quarantined worker that is now the only live consumer of one of
    its queues: "another healthy consumer exists" was true when it was quarantined, but
    that peer may have died since, and a queue with no consumer stalls every job on it."""
    for worker in workers:
        if not _in_quarantine(worker, now):
            continue
        orphaned = [q for q in worker.queues if not _other_healthy_consumer(q, worker, workers, now)]
        if not orphaned:
            continue
        reason = f"released early: last live consumer of {', '.join(orphaned)}"
        Worker.objects.filter(pk=worker.pk).update(quarantined_until=now, quarantine_reason=reason)
        worker.quarantined_until = now
        log.warning("event=worker_released worker=%s reason=%r", worker.hostname, reason)


def _in_quarantine(worker, now):
    return worker.quarantined_until is not None and worker.quarantined_until > now


def reason_to_quarantine(worker, workers, now):
    """Why `worker` should be quarantined now, or None."""
    if _in_quarantine(worker, now):
        return None
    window_start = now - timedelta(seconds=settings.LEPTON_QUARANTINE_WINDOW_SECONDS)
    # After a release, only what happened since counts.
    since = max(window_start, worker.quarantined_until or window_start)
    rates = failure_rates(since)
    attempted, failed = rates.get(worker.hostname, (0, 0))
    if attempted < settings.LEPTON_QUARANTINE_MIN_ATTEMPTS:
        return None
    p_n = failed / attempted
    others_attempted = sum(a for host, (a, _) in rates.items() if host != worker.hostname)
    others_failed = sum(f for host, (_, f) in rates.items() if host != worker.hostname)
    p_rest = others_failed / others_attempted if others_attempted else 0.0
    if p_n <= settings.LEPTON_QUARANTINE_THRESHOLD or p_n <= 2 * p_rest:
        return None
    orphaned = [q for q in worker.queues if not _other_healthy_consumer(q, worker, workers, now)]
    if orphaned:
        log.warning(
            "event=quarantine_skipped worker=%s p_n=%.2f reason=last healthy consumer of %s",
            worker.hostname, p_n, ",".join(orphaned),
        )
        return None
    return f"P_n={p_n:.2f} ({failed}/{attempted} attempts failed; rest of fleet {p_rest:.2f})"


def _other_healthy_consumer(queue, worker, workers, now):
    return any(
        other.pk != worker.pk and queue in other.queues and not _in_quarantine(other, now)
        for other in workers
    )


def _converge(worker, now):
    """Send the consumer commands that make what the worker consumes match its state."""
    wanted = set() if _in_quarantine(worker, now) else set(worker.queues)
    consuming = set(worker.consuming)
    control = current_app.control
    for queue in sorted(consuming - wanted):
        control.cancel_consumer(queue, destination=[worker.hostname])
    for queue in sorted(wanted - consuming):
        control.add_consumer(queue, destination=[worker.hostname])


def release(worker_id):
    """An operator ends a quarantine now; the next review puts the worker back on its queues."""
    return Worker.objects.filter(pk=worker_id).filter(Q(quarantined_until__gt=Now())).update(
        quarantined_until=Now()
    )

"""Stuck consumers: a worker alive by its heartbeat that no longer takes work (celery #8030:
after a broker reconnect a worker can keep running without consuming).

Flagged when, for LEPTON_STUCK_CONSUMER_SECONDS: its heartbeat is fresh, it is not in
quarantine, a queue it consumes has messages waiting in the broker, it has free slots,
and it claimed nothing. "Claimed nothing" is checked cheapest first: no running subtask
of it started since then (the running-subtask partial index), no attempts in WorkerMinute
since then (by minute), and only for a worker that passed both, no subtask row of it
started since then (a scan, but only for a worker that looks stuck).

With LEPTON_STUCK_CONSUMER_RESTART its consumers are restarted through Celery's remote
control: each of its queues cancelled then added again, a fresh subscription
(the remedy for a consumer that stopped polling, #8030). A pool process frozen in the
middle of a task is beyond remote control (billiard's pool_restart waits for each
process to finish its task); the alert is what gets a person or a supervisor to it.
"""

import logging
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count

from jobs.load import broker_depths
from jobs.models import Subtask, Worker, WorkerMinute
from jobs.workers import live_workers
from monitoring.restart_command import RESTART_CONSUMERS

log = logging.getLogger(__name__)


def stuck_consumers(now):
    """Hostnames of the workers that look stuck now, sorted."""
    horizon = now - timedelta(seconds=settings.LEPTON_STUCK_CONSUMER_SECONDS)
    workers = [
        worker for worker in live_workers(now)
        if worker.started_at <= horizon and not (worker.quarantined_until and worker.quarantined_until > now)
    ]
    if not workers:
        return []
    depths = broker_depths()
    running = dict(
        Subtask.objects.filter(status=Subtask.Status.RUNNING, worker__in=[w.hostname for w in workers])
        .values("worker").annotate(n=Count("*")).values_list("worker", "n")
    )
    candidates = {
        worker.hostname for worker in workers
        if any(depths.get(queue, 0) > 0 for queue in worker.consuming)
        and running.get(worker.hostname, 0) < worker.concurrency
    }
    if not candidates:
        return []
    claimed = set(
        Subtask.objects.filter(status=Subtask.Status.RUNNING, worker__in=candidates, started_at__gte=horizon)
        .values_list("worker", flat=True)
    )
    claimed |= set(
        WorkerMinute.objects.filter(
            hostname__in=candidates - claimed, minute__gte=horizon.replace(second=0, microsecond=0), attempted__gt=0
        ).values_list("hostname", flat=True)
    )
    remaining = candidates - claimed
    if remaining:
        claimed |= set(
            Subtask.objects.filter(worker__in=remaining, started_at__gte=horizon).values_list("worker", flat=True).distinct()
        )
    return sorted(candidates - claimed)


def review(now):
    """Stuck hostnames now; restarts each (at most once per detection window) if enabled."""
    stuck = stuck_consumers(now)
    if settings.LEPTON_STUCK_CONSUMER_RESTART:
        for hostname in stuck:
            # The cache keeps one evaluator from restarting a worker again before it had
            # a full window to recover.
            if cache.add(f"lepton:stuck-restart:{hostname}", 1, timeout=settings.LEPTON_STUCK_CONSUMER_SECONDS):
                restart(hostname)
    return stuck


def restart(hostname):
    """Restart a worker's consumers by remote control: cancel, then add, each queue it was
    started to consume, in one command (monitoring.restart_command says why not two)."""
    worker = Worker.objects.filter(hostname=hostname).first()
    queues = worker.queues if worker else []
    log.warning("event=stuck_consumer_restart worker=%s queues=%s", hostname, ",".join(queues))
    current_app.control.broadcast(
        RESTART_CONSUMERS, arguments={"queues": queues}, destination=[hostname], reply=False
    )

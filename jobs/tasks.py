"""Celery tasks: thin entry points that take ids and hand over to the pipeline modules."""

import logging

from celery import shared_task
from django.db import DatabaseError

from jobs import execution, finalize, quarantine, reconcile as reconciler, retention
from jobs.singleflight import run_exclusively

log = logging.getLogger(__name__)

#: Single-flight leases of the housekeeping passes: far longer than a pass takes, short
#: enough that a pass that died holds healing up only briefly.
RECONCILE_LEASE_SECONDS = 60
REVIEW_LEASE_SECONDS = 60
RETENTION_LEASE_SECONDS = 600


# A database error says nothing about the subtasks: send the message again rather than
# drop it (its pairs are fenced, so a second delivery runs each at most once).
@shared_task(
    name="jobs.tasks.run_subtasks", bind=True,
    autoretry_for=(DatabaseError,), retry_backoff=1, retry_backoff_max=30, max_retries=10,
)
def run_subtasks(self, pairs):
    """Run [subtask id, attempt] pairs of one job; returns how many this delivery claimed."""
    try:
        return execution.run(pairs, worker=self.request.hostname)
    except execution.InvalidPairs as exc:
        # Not worth a retry: the same arguments are just as wrong next time.
        log.error("event=invalid_task_arguments task=run_subtasks error=%r", str(exc))
        return 0


@shared_task(name="jobs.tasks.finalize_job")
def finalize_job(job_id):
    return finalize.finalize(job_id)


# Housekeeping: single-flight whatever number of processes consume the control queue
# (a plain `celery worker` without -Q consumes it too); a tick that finds the pass
# running is skipped, not queued.
@shared_task(name="jobs.tasks.reconcile")
def reconcile():
    return run_exclusively("reconcile", reconciler.reconcile, RECONCILE_LEASE_SECONDS)


@shared_task(name="jobs.tasks.review_workers")
def review_workers():
    return run_exclusively("review_workers", quarantine.review, REVIEW_LEASE_SECONDS)


@shared_task(name="jobs.tasks.prune_history")
def prune_history():
    return run_exclusively("retention", retention.prune, RETENTION_LEASE_SECONDS)

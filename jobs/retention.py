"""Bounded history (invariant 12): prune what is older than the retention settings.

Run by beat as `jobs.tasks.prune_history`, single-flight. Deletes go in batches of
LEPTON_RETENTION_BATCH rows, each its own short statement, at most
LEPTON_RETENTION_MAX_BATCHES per table and pass: on SQLite every delete holds the one
write lock, and lease renewals must never wait long behind it. A backlog (the first
pass on an old database) is worked off over the following passes.

- finished jobs (succeeded, failed, canceled) finished more than LEPTON_RETENTION_JOB_DAYS
  ago, with their subtasks, params and events;
- RecoveryEvent and WorkerMinute rows older than LEPTON_RETENTION_EVENT_DAYS;
- Worker rows not seen for LEPTON_RETENTION_WORKER_DAYS.
"""

import logging
from datetime import timedelta

from django.conf import settings

from jobs.clock import db_now
from jobs.models import Job, JobParams, RecoveryEvent, Subtask, Worker, WorkerMinute

log = logging.getLogger(__name__)


def prune():
    """One pass; returns rows deleted per table."""
    now = db_now()

    def days(n):
        return now - timedelta(days=n)

    deleted = _prune_jobs(days(settings.LEPTON_RETENTION_JOB_DAYS))
    deleted["recovery_events"] = _in_batches(
        RecoveryEvent.objects.filter(created_at__lt=days(settings.LEPTON_RETENTION_EVENT_DAYS))
    )
    deleted["worker_minutes"] = _in_batches(
        WorkerMinute.objects.filter(minute__lt=days(settings.LEPTON_RETENTION_EVENT_DAYS))
    )
    deleted["workers"] = _in_batches(
        Worker.objects.filter(last_seen_at__lt=days(settings.LEPTON_RETENTION_WORKER_DAYS))
    )
    if any(deleted.values()):
        log.info("event=history_pruned %s", " ".join(f"{k}={v}" for k, v in deleted.items()))
    return deleted


def _prune_jobs(before):
    """Old finished jobs, their subtasks first (a job may have 100,000) in batches."""
    counts = {"jobs": 0, "subtasks": 0}
    batch = settings.LEPTON_RETENTION_BATCH
    for _ in range(settings.LEPTON_RETENTION_MAX_BATCHES):
        job_ids = list(
            Job.objects.filter(status__in=Job.FINAL, finished_at__lt=before)
            .order_by()
            .values_list("id", flat=True)[:batch]
        )
        if not job_ids:
            break
        subtasks = Subtask.objects.filter(job_id__in=job_ids)
        removed = _in_batches(subtasks)
        counts["subtasks"] += removed
        if subtasks.exists():
            break  # this pass's share of batches is spent; the rest next pass
        RecoveryEvent.objects.filter(job_id__in=job_ids).delete()
        JobParams.objects.filter(job_id__in=job_ids).delete()
        counts["jobs"] += Job.objects.filter(pk__in=job_ids).delete()[1].get("jobs.Job", 0)
    return counts


def _in_batches(queryset):
    """Delete the queryset's rows LEPTON_RETENTION_BATCH at a time; returns how many."""
    total = 0
    for _ in range(settings.LEPTON_RETENTION_MAX_BATCHES):
        ids = list(queryset.order_by().values_list("pk", flat=True)[: settings.LEPTON_RETENTION_BATCH])
        if not ids:
            break
        total += queryset.model.objects.filter(pk__in=ids).delete()[0]
    return total

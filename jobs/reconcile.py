"""The reconciler: re-dispatch what the database says is unfinished (invariants 1, 2, 5).

Run periodically by beat. Each scan is an indexed query over the rows still to heal
(see the partial indexes on Subtask and Job), each action a conditional UPDATE, so
running it twice or concurrently changes nothing twice; a duplicate message it sends
is fenced off by the subtask's status and attempt.
"""

import logging
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from jobs import registry
from jobs.dispatch import finalize_message, publish, subtask_messages
from jobs.execution import Claim, record_error
from jobs.models import Job, Subtask

log = logging.getLogger(__name__)

#: Rows healed per scan and tick; a larger backlog is worked off over the next ticks.
BATCH = 500


def reconcile():
    """One pass; returns how many rows each healing action touched."""
    now = timezone.now()
    actions = {
        "lease_lapsed": requeue_lapsed_leases(now),
        "retry_due": queue_due_retries(now),
        "redispatched": redispatch_stale_queued(now),
        "finalize_resent": resend_stuck_finalize(now),
    }
    for action, count in actions.items():
        if count:
            log.warning("event=reconciled action=%s count=%d", action, count)
    return actions


def _job_fields(prefix=""):
    return [f"{prefix}{name}" for name in ("type", "queue", "priority", "status")]


def _publish_by_job(rows):
    """Publish (id, attempt) rows grouped by their job's routing."""
    by_job = defaultdict(list)
    for row in rows:
        by_job[(row["job__type"], row["job__queue"], row["job__priority"])].append(
            (row["id"], row["attempt"])
        )
    messages = []
    for (type_name, queue, priority), pairs in by_job.items():
        messages += subtask_messages(pairs, registry.get(type_name), queue, priority)
    publish(messages)


def requeue_lapsed_leases(now):
    """Running subtasks whose worker stopped renewing: hand them out again, or fail them."""
    rows = list(
        Subtask.objects.filter(status=Subtask.Status.RUNNING, lease_expires_at__lt=now)
        .values("id", "attempt", "job_id", "index", "worker", *_job_fields("job__"))[:BATCH]
    )
    requeued = []
    for row in rows:
        lapsed = Subtask.objects.filter(
            pk=row["id"], attempt=row["attempt"], status=Subtask.Status.RUNNING, lease_expires_at__lt=now
        )
        error = f"lease lapsed: worker {row['worker'] or '?'} stopped renewing on attempt {row['attempt']}"
        job_type = registry.get(row["job__type"])
        if row["job__status"] not in Job.ACTIVE:
            lapsed.update(status=Subtask.Status.CANCELED, finished_at=now, lease_expires_at=None)
        elif row["attempt"] > job_type.max_retries:
            claim = Claim(row["id"], row["attempt"], row["job_id"], row["index"], None, job_type)
            record_error(claim, error, permanent=True)
        elif lapsed.update(
            status=Subtask.Status.QUEUED,
            attempt=F("attempt") + 1,
            queued_at=now,
            worker="",
            lease_expires_at=None,
            error=error,
        ):
            requeued.append({**row, "attempt": row["attempt"] + 1})
    _publish_by_job(requeued)
    return len(rows)


def queue_due_retries(now):
    """Retry waits are rows, not broker ETAs, so a broker loss cannot lose them."""
    rows = list(
        Subtask.objects.filter(status=Subtask.Status.RETRY_WAIT, retry_at__lte=now)
        .values("id", "attempt", *_job_fields("job__"))[:BATCH]
    )
    if not rows:
        return 0
    with transaction.atomic():
        count = Subtask.objects.filter(
            id__in=[row["id"] for row in rows], status=Subtask.Status.RETRY_WAIT
        ).update(status=Subtask.Status.QUEUED, queued_at=now, retry_at=None)
    _publish_by_job(rows)
    return count


def redispatch_stale_queued(now):
    """Queued rows nobody claimed for a long time: their message may never have left.

    The same attempt is sent again, so if the first message does turn up, whichever
    arrives second finds the subtask claimed and does nothing.
    """
    cutoff = now - timedelta(seconds=settings.LEPTON_REDISPATCH_SECONDS)
    rows = list(
        Subtask.objects.filter(status=Subtask.Status.QUEUED, queued_at__lt=cutoff)
        .values("id", "attempt", *_job_fields("job__"))[:BATCH]
    )
    if not rows:
        return 0
    Subtask.objects.filter(id__in=[row["id"] for row in rows], status=Subtask.Status.QUEUED).update(
        queued_at=now
    )
    _publish_by_job(rows)
    return len(rows)


def resend_stuck_finalize(now):
    """Jobs left in `finalizing` (the combine worker died): enqueue combine again."""
    cutoff = now - timedelta(seconds=settings.LEPTON_FINALIZE_STALE_SECONDS)
    jobs = list(
        Job.objects.filter(status=Job.Status.FINALIZING, status_changed_at__lt=cutoff).values(
            "id", "queue"
        )[:BATCH]
    )
    if not jobs:
        return 0
    Job.objects.filter(id__in=[job["id"] for job in jobs], status=Job.Status.FINALIZING).update(
        status_changed_at=now
    )
    publish([finalize_message(job["id"], job["queue"]) for job in jobs])
    return len(jobs)

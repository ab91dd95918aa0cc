"""The reconciler: re-dispatch what the database says is unfinished (invariants 1, 2, 5).

Run periodically by beat. Each scan is an indexed query over the rows still to heal
(see the partial indexes on Subtask and Job), each action a conditional UPDATE, so
running it twice or concurrently changes nothing twice; a duplicate message it sends
is fenced off by the subtask's status and attempt. Every healing action is logged and
recorded as a RecoveryEvent.
"""

import logging
from datetime import datetime, timedelta, timezone as dt_timezone

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from jobs import broker, registry
from jobs.dispatch import ROUTING_FIELDS, finalize_message, publish, publish_by_job, requeue_running
from jobs.execution import Claim, record_error
from jobs.models import Job, RecoveryEvent, Subtask
from jobs.workers import add_attempts

log = logging.getLogger(__name__)

#: Rows healed per scan and tick; a larger backlog is worked off over the next ticks.
BATCH = 500

def reconcile():
    """One pass; returns how many rows each healing action touched."""
    now = timezone.now()
    reset_at, just_reset = broker.check_for_reset()
    if just_reset:
        log.warning("event=broker_reset_detected")
        RecoveryEvent.objects.create(
            kind=RecoveryEvent.Kind.BROKER_RESET,
            detail="broker sentinel missing (flushed or restarted); queue bindings restored, queued work sent again",
        )
    lost_before = now - timedelta(seconds=settings.LEPTON_REDISPATCH_SECONDS)
    if reset_at is not None:
        # Everything queued before the broker reset lost its message (this pass's own
        # requeues are stamped `now` and were sent after the reset).
        lost_before = max(lost_before, min(now, datetime.fromtimestamp(reset_at, dt_timezone.utc)))
    actions = {
        "lease_lapsed": requeue_lapsed_leases(now),
        "retry_due": queue_due_retries(now),
        "redispatched": redispatch_lost(now, lost_before),
        "finalize_resent": resend_stuck_finalize(now, lost_before),
    }
    for action, count in actions.items():
        if count:
            log.warning("event=reconciled action=%s count=%d", action, count)
    return actions


def requeue_lapsed_leases(now):
    """Running subtasks whose worker stopped renewing: hand them out again, or fail them."""
    rows = list(
        Subtask.objects.filter(status=Subtask.Status.RUNNING, lease_expires_at__lt=now).values(
            "id", "attempt", "tries", "job_id", "index", "worker", "job__status", *ROUTING_FIELDS
        )[:BATCH]
    )
    # Only if no renewal came in since the scan: the worker may be slow, not gone.
    still_lapsed = Q(lease_expires_at__lt=now)
    requeued = []
    for row in rows:
        error = (
            f"lease lapsed: worker {row['worker'] or '?'} stopped renewing attempt {row['attempt']} "
            "(worker lost, or killed at its hard time limit)"
        )
        job_type = registry.get(row["job__type"])
        if row["worker"]:
            # The attempt died with its worker: a failure in that worker's P_n.
            add_attempts(row["worker"], now.replace(second=0, microsecond=0), attempted=1, failed=1)
        if row["job__status"] not in Job.ACTIVE:
            Subtask.objects.filter(
                still_lapsed, pk=row["id"], attempt=row["attempt"], status=Subtask.Status.RUNNING
            ).update(status=Subtask.Status.CANCELED, finished_at=now, lease_expires_at=None)
        elif row["tries"] > job_type.max_retries:
            claim = Claim(row["id"], row["attempt"], row["job_id"], row["index"], None, job_type, row["tries"])
            record_error(claim, error, permanent=True)
        elif again := requeue_running(row, now, still_lapsed, error=error):
            requeued.append(again)
    publish_by_job(requeued)
    RecoveryEvent.record(
        RecoveryEvent.Kind.LEASE_LAPSED,
        requeued,
        lambda row: f"lease of attempt {row['attempt'] - 1} lapsed on {row['worker'] or '?'}; queued as attempt {row['attempt']}",
    )
    return len(rows)


def queue_due_retries(now):
    """Retry waits are rows, not broker ETAs, so a broker loss cannot lose them."""
    rows = list(
        Subtask.objects.filter(status=Subtask.Status.RETRY_WAIT, retry_at__lte=now).values(
            "id", "attempt", "job__status", *ROUTING_FIELDS
        )[:BATCH]
    )
    due = [row for row in rows if row["job__status"] in Job.ACTIVE]
    # A retry scheduled by an attempt that finished after its job ended is dropped.
    Subtask.objects.filter(
        id__in=[row["id"] for row in rows if row not in due], status=Subtask.Status.RETRY_WAIT
    ).update(status=Subtask.Status.CANCELED, finished_at=now)
    count = Subtask.objects.filter(
        id__in=[row["id"] for row in due], status=Subtask.Status.RETRY_WAIT
    ).update(status=Subtask.Status.QUEUED, queued_at=now, retry_at=None, message=F("index"))
    publish_by_job(due)
    return count


def redispatch_lost(now, lost_before):
    """Queued rows whose message is presumed lost: sent long ago, or before a broker reset.

    The same attempt is sent again, so if the first message does turn up, whichever
    arrives second finds the subtask claimed and does nothing.
    """
    rows = list(
        Subtask.objects.filter(status=Subtask.Status.QUEUED, queued_at__lt=lost_before).values(
            "id", "attempt", "job_id", "index", *ROUTING_FIELDS
        )[:BATCH]
    )
    if not rows:
        return 0
    # Sent again one per message.
    Subtask.objects.filter(id__in=[row["id"] for row in rows], status=Subtask.Status.QUEUED).update(
        queued_at=now, message=F("index")
    )
    publish_by_job(rows)
    RecoveryEvent.record(RecoveryEvent.Kind.REDISPATCHED, rows, lambda row: f"message of attempt {row['attempt']} presumed lost; sent again")
    return len(rows)


def resend_stuck_finalize(now, lost_before):
    """Jobs left in `finalizing`: their combine worker died (lease lapsed) or its message
    was lost (sent before a broker reset, or long unanswered)."""
    stale_before = max(lost_before, now - timedelta(seconds=settings.LEPTON_FINALIZE_STALE_SECONDS))
    jobs = list(
        Job.objects.filter(status=Job.Status.FINALIZING)
        .filter(
            Q(lease_expires_at__lt=now)
            | Q(lease_expires_at__isnull=True, status_changed_at__lt=stale_before)
        )
        .values("id", "queue")[:BATCH]
    )
    if not jobs:
        return 0
    Job.objects.filter(id__in=[job["id"] for job in jobs], status=Job.Status.FINALIZING).update(
        status_changed_at=now, lease_expires_at=None
    )
    publish([finalize_message(job["id"], job["queue"]) for job in jobs])
    RecoveryEvent.record(
        RecoveryEvent.Kind.FINALIZE_RESENT,
        [{"job_id": job["id"]} for job in jobs],
        lambda row: "combine step sent again",
    )
    return len(jobs)

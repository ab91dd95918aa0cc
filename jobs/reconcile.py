"""The reconciler: re-dispatch what the database says is unfinished (invariants 1, 2, 5).

Run periodically by beat, single-flight (jobs.tasks). Each scan is an indexed query over
the rows still to heal (see the partial indexes on Subtask and Job), each action a
conditional UPDATE that also re-checks the job's status, so running it twice, or beside
a cancel or a retry, changes nothing twice. A duplicate message it sends is fenced off
by the subtask's status and attempt. Every healing action is logged and recorded as a
RecoveryEvent.

The control plane stays boring (invariant 10): it never runs user code (a combine step
is sent to a job worker), and one bad row or one failing step never stops the pass:
each step, and each row in it, is caught, logged and recorded, and the rest goes on.
Times come from the database's clock (invariant 11).
"""

import logging
from datetime import datetime, timedelta, timezone as dt_timezone

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from jobs import broker, registry
from jobs.clock import db_now
from jobs.control import end_job
from jobs.dispatch import (
    ROUTING_FIELDS, combine_time_limit_of, finalize_message, publish, publish_by_job, requeue_running,
)
from jobs.execution import Claim, record_error
from jobs.models import Job, RecoveryEvent, Subtask
from jobs.workers import add_attempts

log = logging.getLogger(__name__)

#: Rows healed per scan and tick; a larger backlog is worked off over the next ticks.
BATCH = 500


def reconcile():
    """One pass; returns how many rows each healing action touched (and `errors`)."""
    now = db_now()
    lost_before = now - timedelta(seconds=settings.LEPTON_REDISPATCH_SECONDS)
    reset_at = _check_broker(now)
    if reset_at is not None:
        # Everything queued before the broker reset lost its message (this pass's own
        # requeues are stamped `now` and were sent after the reset).
        lost_before = max(lost_before, min(now, datetime.fromtimestamp(reset_at, dt_timezone.utc)))
    actions = {"errors": 0}
    steps = {
        "lease_lapsed": lambda: requeue_lapsed_leases(now),
        "retry_due": lambda: queue_due_retries(now),
        "redispatched": lambda: redispatch_lost(now, lost_before),
        "finalize_resent": lambda: resend_stuck_finalize(now, lost_before),
    }
    for action, step in steps.items():
        try:
            actions[action] = step()
        except Exception:
            log.exception("event=reconcile_step_failed step=%s", action)
            actions[action] = 0
            actions["errors"] += 1
    for action, count in actions.items():
        if count:
            log.warning("event=reconciled action=%s count=%d", action, count)
    return actions


def _check_broker(now):
    """The latest broker reset's epoch seconds (or None), recording a newly found one.

    A sentinel missing from a broker that had nothing of ours to lose (a fresh start,
    nothing queued) is not a reset worth an event."""
    reset_at, just_reset = broker.check_for_reset()
    if just_reset:
        had_work = (
            Subtask.objects.filter(status=Subtask.Status.QUEUED, queued_at__lt=now).exists()
            or Job.objects.filter(status=Job.Status.FINALIZING, lease_expires_at__isnull=True).exists()
        )
        if had_work:
            log.warning("event=broker_reset_detected")
            RecoveryEvent.objects.create(
                kind=RecoveryEvent.Kind.BROKER_RESET,
                detail="broker sentinel missing (flushed or restarted); queue bindings restored, queued work sent again",
            )
        else:
            log.info("event=broker_sentinel_set reason=fresh broker, nothing queued to lose")
    return reset_at


def _each(rows, act):
    """`act(row)` for each row; a row that raises is logged and recorded, and the rest
    go on. Returns the non-None results."""
    results = []
    for row in rows:
        try:
            with transaction.atomic():
                result = act(row)
        except Exception as exc:
            log.exception("event=reconcile_row_failed job=%s", row.get("job_id"))
            _record_row_error(row, exc)
            continue
        if result is not None:
            results.append(result)
    return results


def _record_row_error(row, exc):
    try:
        RecoveryEvent.objects.create(
            kind=RecoveryEvent.Kind.RECONCILE_ERROR, job_id=row.get("job_id"),
            subtask_index=row.get("index"), detail=f"{type(exc).__name__}: {exc}"[:2000],
        )
    except Exception:
        log.exception("event=reconcile_error_not_recorded job=%s", row.get("job_id"))


def known_type_rows(rows, now):
    """The rows whose job type is installed here. For the others, the job is marked
    with an `unknown_type` event (once) and, past LEPTON_UNKNOWN_TYPE_GRACE_SECONDS
    since that mark, failed with a clear error: a type removed in a deploy, or
    registered only on some hosts, must not stop healing for everyone (case 4)."""
    known, unknown_jobs = [], {}
    for row in rows:
        if registry.find(row["job__type"]) is None:
            unknown_jobs[row["job_id"]] = row["job__type"]
        else:
            known.append(row)
    for job_id, type_name in unknown_jobs.items():
        _handle_unknown_type(job_id, type_name, now)
    return known


def _handle_unknown_type(job_id, type_name, now):
    marked = (
        RecoveryEvent.objects.filter(job_id=job_id, kind=RecoveryEvent.Kind.UNKNOWN_TYPE)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if marked is None:
        log.warning("event=unknown_job_type job=%s type=%r", job_id, type_name)
        RecoveryEvent.objects.create(
            kind=RecoveryEvent.Kind.UNKNOWN_TYPE, job_id=job_id,
            detail=f"job type {type_name!r} is not installed on the reconciler's host; skipped",
        )
    elif now - marked >= timedelta(seconds=settings.LEPTON_UNKNOWN_TYPE_GRACE_SECONDS):
        end_job(
            job_id, Job.Status.FAILED,
            f"job type {type_name!r} is not installed on this platform (still unknown "
            f"{settings.LEPTON_UNKNOWN_TYPE_GRACE_SECONDS:.0f}s after it was first found)",
        )


def requeue_lapsed_leases(now):
    """Running subtasks whose worker stopped renewing: hand them out again, or fail them."""
    rows = list(
        Subtask.objects.filter(status=Subtask.Status.RUNNING, lease_expires_at__lt=now)
        .order_by()
        .values("id", "attempt", "tries", "job_id", "index", "worker", "job__status", *ROUTING_FIELDS)[:BATCH]
    )
    # Only if no renewal came in since the scan: the worker may be slow, not gone.
    still_lapsed = Q(lease_expires_at__lt=now)

    def heal(row):
        error = (
            f"lease lapsed: worker {row['worker'] or '?'} stopped renewing attempt {row['attempt']} "
            "(worker lost, or killed at its hard time limit)"
        )
        job_type = registry.get(row["job__type"])
        if row["worker"]:
            # The attempt died with its worker: a failure in that worker's P_n.
            add_attempts(row["worker"], now.replace(second=0, microsecond=0), attempted=1, failed=1)
        if row["job__status"] not in Job.ACTIVE:
            # Still ended in the same statement: a retry committed since the scan
            # reopened the job, and then the next pass requeues this row instead.
            Subtask.objects.filter(
                still_lapsed, Subtask.of_jobs_in(Job.FINAL), pk=row["id"], attempt=row["attempt"],
                status=Subtask.Status.RUNNING,
            ).update(status=Subtask.Status.CANCELED, finished_at=now, lease_expires_at=None)
            return None
        if row["tries"] > job_type.max_retries:
            # Fails the subtask; if it was the job's last, the combine step is *sent*.
            claim = Claim(row["id"], row["attempt"], row["job_id"], row["index"], None, job_type, row["tries"])
            record_error(claim, error, permanent=True)
            return None
        return requeue_running(row, now, still_lapsed, error=error)

    requeued = _each(known_type_rows(rows, now), heal)
    publish_by_job(requeued)
    RecoveryEvent.record(
        RecoveryEvent.Kind.LEASE_LAPSED,
        requeued,
        lambda row: f"lease of attempt {row['attempt'] - 1} lapsed on {row['worker'] or '?'}; queued as attempt {row['attempt']}",
    )
    return len(rows)


def queue_due_retries(now):
    """Retry waits are rows, not broker ETAs, so a broker loss cannot lose them.

    Each UPDATE re-checks the job's status: a retry of the job committed between the
    scan and the UPDATE must not leave a canceled subtask inside a running job."""
    rows = list(
        Subtask.objects.filter(status=Subtask.Status.RETRY_WAIT, retry_at__lte=now)
        .order_by()
        .values("id", "attempt", "job_id", "index", "job__status", *ROUTING_FIELDS)[:BATCH]
    )
    ids = [row["id"] for row in rows]
    # A retry scheduled by an attempt that finished after its job ended is dropped.
    Subtask.objects.filter(Subtask.of_jobs_in(Job.FINAL), id__in=ids, status=Subtask.Status.RETRY_WAIT).update(
        status=Subtask.Status.CANCELED, finished_at=now
    )
    due = known_type_rows([row for row in rows if row["job__status"] in Job.ACTIVE], now)
    count = Subtask.objects.filter(
        Subtask.of_jobs_in(Job.ACTIVE), id__in=[row["id"] for row in due], status=Subtask.Status.RETRY_WAIT
    ).update(status=Subtask.Status.QUEUED, queued_at=now, retry_at=None, message=F("index"))
    publish_by_job(due)
    return count


def redispatch_lost(now, lost_before):
    """Queued rows whose message is lost: sent before a broker reset, or no longer in
    the broker (a failed publish, a crash between commit and publish).

    On Redis the broker is asked which pairs its messages still carry, so a backlog
    that merely waits is never sent twice; a row must be LEPTON_LOST_MESSAGE_GRACE_SECONDS
    old (its publish may be in flight). Elsewhere a row queued longer than
    LEPTON_REDISPATCH_SECONDS is presumed lost. The same attempt is sent again, so if
    the first message does turn up, whichever arrives second finds the subtask claimed.
    """
    candidates = Subtask.objects.filter(status=Subtask.Status.QUEUED, job__status__in=Job.ACTIVE).order_by()
    fields = ("id", "attempt", "job_id", "index", "queued_at", *ROUTING_FIELDS)
    grace_before = now - timedelta(seconds=settings.LEPTON_LOST_MESSAGE_GRACE_SECONDS)
    rows = list(candidates.filter(queued_at__lt=max(lost_before, grace_before)).values(*fields)[:BATCH])
    if not rows:
        return 0
    in_broker = broker.pairs_in_broker({row["job__queue"] for row in rows}, settings.LEPTON_LEASE_SECONDS)
    if in_broker is None:
        rows = [row for row in rows if row["queued_at"] < lost_before]
    else:
        rows = [row for row in rows if (row["id"], row["attempt"]) not in in_broker]
    rows = known_type_rows(rows, now)
    if not rows:
        return 0
    # Sent again one per message.
    Subtask.objects.filter(
        Subtask.of_jobs_in(Job.ACTIVE), id__in=[row["id"] for row in rows], status=Subtask.Status.QUEUED
    ).update(queued_at=now, message=F("index"))
    publish_by_job(rows)
    RecoveryEvent.record(
        RecoveryEvent.Kind.REDISPATCHED, rows, lambda row: f"message of attempt {row['attempt']} lost; sent again"
    )
    return len(rows)


def resend_stuck_finalize(now, lost_before):
    """Jobs left in `finalizing`: their combine worker died (lease lapsed) or its message
    was lost (sent before a broker reset, or long unanswered). A job whose combine has
    started LEPTON_MAX_COMBINE_ATTEMPTS times and died each time fails instead."""
    stale_before = max(lost_before, now - timedelta(seconds=settings.LEPTON_FINALIZE_STALE_SECONDS))
    stuck = Q(lease_expires_at__lt=now) | Q(lease_expires_at__isnull=True, status_changed_at__lt=stale_before)
    jobs = list(
        Job.objects.filter(stuck, status=Job.Status.FINALIZING)
        .order_by()
        .values("id", "queue", "type", "combine_attempts")[:BATCH]
    )

    def heal(job):
        job_type = registry.find(job["type"])
        if job["combine_attempts"] >= settings.LEPTON_MAX_COMBINE_ATTEMPTS:
            limit = f"{combine_time_limit_of(job_type)}s" if job_type else "its time limit"
            end_job(
                job["id"], Job.Status.FAILED,
                f"combine failed: it started {job['combine_attempts']} times and never finished "
                f"(worker lost, or killed at {limit})",
            )
            return None
        # Cleared only while still stuck, in this UPDATE: a combine that took the lease
        # since the scan keeps it, and no second combine starts beside it.
        if not Job.objects.filter(stuck, pk=job["id"], status=Job.Status.FINALIZING).update(
            status_changed_at=now, lease_expires_at=None
        ):
            return None
        return job

    resent = _each(
        [{**job, "job_id": job["id"], "job__type": job["type"]} for job in jobs], heal
    )
    publish([finalize_message(job["id"], job["queue"], registry.find(job["type"])) for job in resent])
    RecoveryEvent.record(RecoveryEvent.Kind.FINALIZE_RESENT, resent, lambda row: "combine step sent again")
    return len(resent)

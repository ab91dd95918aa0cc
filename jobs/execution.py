"""Running subtask attempts: claim, process, record, advance the job.

Invariant 3: a subtask is claimed with a conditional UPDATE on (status, attempt) and
every outcome is written only while that attempt still holds the claim, so a duplicate
or late message changes nothing and no result is counted twice. Invariant 4: the last
outcome moves the job to `finalizing` with one conditional UPDATE; only that winner
runs the combine step.
"""

import logging
import os
import random
import time
import traceback
from dataclasses import dataclass
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from jobs import registry
from jobs.control import end_job
from jobs.dispatch import refill
from jobs.finalize import finalize
from jobs.leases import lease_expiry, renewer
from jobs.models import Job, RecoveryEvent, Subtask
from jobs.registry import PermanentError, SubtaskContext
from jobs.workers import attempts

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 4000


@dataclass(frozen=True)
class Claim:
    subtask_id: int
    attempt: int
    job_id: int
    index: int
    payload: object
    job_type: registry.JobType
    tries: int


def run(pairs, worker):
    """Execute one delivery of "run these (subtask, attempt) pairs" of one job.

    Each pair is claimed, processed and recorded on its own terms; a pair whose attempt
    no longer holds (duplicate, late or redelivered message) is skipped.
    """
    claims = _claim(pairs, worker)
    if len(claims) < len(pairs):
        log.info("event=claim_rejected pairs=%d claimed=%d", len(pairs), len(claims))
    for claim in claims:
        renewer.hold(claim.subtask_id, claim.attempt)
    succeeded, elapsed = [], 0.0
    try:
        for claim in claims:
            started = time.perf_counter()
            outcome = _execute(claim)
            elapsed += time.perf_counter() - started
            if isinstance(outcome, Success):
                succeeded.append(outcome)
            else:
                attempts.record(worker, "failed" if outcome in ("failed", "retry") else None)
        if succeeded:
            for outcome in _record_successes(succeeded, elapsed / len(claims)):
                attempts.record(worker, "succeeded" if outcome == "succeeded" else None)
    finally:
        for claim in claims:
            renewer.release(claim.subtask_id)
    return len(claims)


@dataclass(frozen=True)
class Success:
    claim: Claim
    result: object


def _execute(claim):
    """A Success to record with the batch, or the outcome of recording the error now."""
    try:
        ctx = SubtaskContext(job_id=claim.job_id, index=claim.index, attempt=claim.attempt)
        return Success(claim, claim.job_type.process(claim.payload, ctx))
    except SoftTimeLimitExceeded:
        error = f"timeout: the subtask ran past its time limit of {claim.job_type.time_limit}s"
        return record_error(claim, error, permanent=not claim.job_type.retry_timeouts)
    except PermanentError as exc:
        return record_error(claim, _describe(exc), permanent=True)
    except Exception as exc:
        return record_error(claim, _describe(exc), permanent=False)


def _claim(pairs, worker):
    """Claim the pairs still queued under their attempt; returns their Claims in order."""
    now = timezone.now()
    pid = os.getpid()
    claimed = Subtask.objects.filter(Subtask.at_attempts(pairs), status=Subtask.Status.QUEUED).update(
        status=Subtask.Status.RUNNING,
        worker=worker,
        worker_pid=pid,
        tries=F("tries") + 1,
        started_at=now,
        lease_expires_at=lease_expiry(),
    )
    if not claimed:
        return []
    # This process's claim is the rows it just stamped with its pid and timestamp.
    rows = list(
        Subtask.objects.filter(
            pk__in=[subtask_id for subtask_id, _ in pairs],
            status=Subtask.Status.RUNNING,
            worker=worker,
            worker_pid=pid,
            started_at=now,
        )
        .order_by("index")
        .values("id", "attempt", "job_id", "index", "payload", "tries", "job__type", "job__status")
    )
    if rows and rows[0]["job__status"] == Job.Status.QUEUED:
        Job.objects.filter(pk=rows[0]["job_id"], status=Job.Status.QUEUED).update(
            status=Job.Status.RUNNING, started_at=now, status_changed_at=now
        )
    claims = [
        Claim(
            subtask_id=row["id"],
            attempt=row["attempt"],
            job_id=row["job_id"],
            index=row["index"],
            payload=row["payload"],
            job_type=registry.find(row["job__type"]),
            tries=row["tries"],
        )
        for row in rows
    ]
    if claims and claims[0].job_type is None:
        # A worker deployed without this job type: say so on the rows rather than crash.
        error = f"job type {rows[0]['job__type']!r} is not installed on worker {worker}"
        for claim in claims:
            record_error(claim, error, permanent=True)
        return []
    return claims


def _fenced(claim):
    """The subtask row, only while this attempt still holds it."""
    return Subtask.objects.filter(
        pk=claim.subtask_id, attempt=claim.attempt, status=Subtask.Status.RUNNING
    )


def _record_successes(successes, seconds_each):
    """Record a batch of successes of one job in one transaction; returns each outcome."""
    job_id = successes[0].claim.job_id
    now = timezone.now()
    with transaction.atomic():
        outcomes = [
            "succeeded"
            if _fenced(s.claim).update(
                status=Subtask.Status.SUCCEEDED, result=s.result, finished_at=now, lease_expires_at=None
            )
            else _late(s.claim, "succeeded")
            for s in successes
        ]
        counted = outcomes.count("succeeded")
        if counted:
            Job.objects.filter(pk=job_id).update(
                done=F("done") + counted, batch=next_batch(successes[0].claim.job_type, seconds_each)
            )
            _advance(job_id)
    return outcomes


def next_batch(job_type, seconds_each):
    """Subtasks per message from now on: enough that a message is about
    LEPTON_BATCH_TARGET_MS of work, so per-message costs (broker, claim, commit) are
    shared by many short subtasks while long ones still go one per message. Types with a
    time limit always go one by one: Celery enforces the limit per message."""
    if job_type.time_limit is not None:
        return 1
    target = settings.LEPTON_BATCH_TARGET_MS / 1000
    return max(1, min(settings.LEPTON_MAX_BATCH, int(target / max(seconds_each, 1e-6))))


def record_error(claim, error, permanent):
    if not permanent and claim.tries <= claim.job_type.max_retries:
        return _schedule_retry(claim, error)
    now = timezone.now()
    with transaction.atomic():
        if not _fenced(claim).update(
            status=Subtask.Status.FAILED, error=error, finished_at=now, lease_expires_at=None
        ):
            return _late(claim, "failed")
        Job.objects.filter(pk=claim.job_id).update(failed=F("failed") + 1)
        job = _locked_job(claim.job_id)
        if job["status"] == Job.Status.RUNNING and job["failed"] > job["max_failures"]:
            end_job(claim.job_id, Job.Status.FAILED, f"subtask {claim.index} failed: {error}")
        else:
            _advance(claim.job_id, job)
    log.warning("event=subtask_failed job=%s subtask=%s error=%r", claim.job_id, claim.index, error)
    return "failed"


def _schedule_retry(claim, error):
    delay = retry_delay(claim.tries)
    if not _fenced(claim).update(
        status=Subtask.Status.RETRY_WAIT,
        attempt=F("attempt") + 1,
        retry_at=timezone.now() + timedelta(seconds=delay),
        error=error,
        lease_expires_at=None,
    ):
        return _late(claim, "retry")
    log.info(
        "event=subtask_retry job=%s subtask=%s attempt=%s delay=%.2f error=%r",
        claim.job_id, claim.index, claim.attempt, delay, error,
    )
    return "retry"


def retry_delay(tries):
    """Exponential backoff with jitter: half fixed, half random, capped."""
    ceiling = min(settings.LEPTON_RETRY_MAX_SECONDS, settings.LEPTON_RETRY_BASE_SECONDS * 2 ** (tries - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def _late(claim, outcome):
    """An attempt that lost its claim (lease lapsed, job ended) tried to write: refuse, record."""
    log.warning(
        "event=late_completion_rejected subtask=%s attempt=%s outcome=%s",
        claim.subtask_id, claim.attempt, outcome,
    )
    RecoveryEvent.objects.create(
        kind=RecoveryEvent.Kind.LATE_COMPLETION,
        job_id=claim.job_id,
        subtask_index=claim.index,
        attempt=claim.attempt,
        detail=f"attempt {claim.attempt} finished ({outcome}) after losing its claim; ignored",
    )
    return "late"


def _locked_job(job_id):
    # The caller has just updated this row in the open transaction, so on PostgreSQL
    # it holds the row lock: completions of one job are serialised from here on.
    return Job.objects.values(*Job.PROGRESS_FIELDS).get(pk=job_id)


def _advance(job_id, job=None):
    """After subtasks ended: finalize the job if they were the last, else refill the window."""
    job = job or _locked_job(job_id)
    if job["status"] != Job.Status.RUNNING:
        return
    if job["done"] + job["failed"] >= job["total"]:
        entered = Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(
            status=Job.Status.FINALIZING, status_changed_at=timezone.now()
        )
        if entered:
            # The winner runs the combine step itself, right after commit: no broker round
            # trip between the last subtask and the result. Should this process die, the
            # reconciler sends the step to another worker (reconcile.resend_stuck_finalize).
            transaction.on_commit(lambda: finalize(job_id))
        return
    refill(job_id, job)


def _describe(exc):
    """`Type: message` plus where in the job type it was raised: enough to diagnose, bounded."""
    # The first frame is `_execute` above; the rest are the job type's own.
    frames = traceback.extract_tb(exc.__traceback__)[1:][-3:]
    where = "; ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}" for f in frames)
    text = f"{type(exc).__name__}: {exc}" + (f" (at {where})" if where else "")
    return text[:MAX_ERROR_CHARS]

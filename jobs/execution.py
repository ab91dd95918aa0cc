"""Running one subtask attempt: claim, process, record, advance the job.

Invariant 3: a subtask is claimed with a conditional UPDATE on (status, attempt) and
every outcome is written only while that attempt still holds the claim, so a duplicate
or late message changes nothing and no result is counted twice. Invariant 4: the last
outcome moves the job to `finalizing` with one conditional UPDATE; only that winner
enqueues the combine step.
"""

import logging
import os
import random
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
from jobs.dispatch import finalize_message, publish_on_commit, queue_pending, subtask_messages
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


def run(subtask_id, attempt, worker):
    """Execute one delivery of "run subtask N, attempt K"; a stale delivery is a no-op."""
    claim = _claim(subtask_id, attempt, worker)
    if claim is None:
        return "stale"
    outcome = _execute(claim)
    # A late outcome (claim lost meanwhile) counts as an attempt, neither success nor failure.
    attempts.record(worker, {"succeeded": "succeeded", "failed": "failed", "retry": "failed"}.get(outcome))
    return outcome


def _execute(claim):
    renewer.hold(claim.subtask_id, claim.attempt)
    try:
        ctx = SubtaskContext(job_id=claim.job_id, index=claim.index, attempt=claim.attempt)
        result = claim.job_type.process(claim.payload, ctx)
    except SoftTimeLimitExceeded:
        error = f"timeout: the subtask ran past its time limit of {claim.job_type.time_limit}s"
        return record_error(claim, error, permanent=not claim.job_type.retry_timeouts)
    except PermanentError as exc:
        return record_error(claim, _describe(exc), permanent=True)
    except Exception as exc:
        return record_error(claim, _describe(exc), permanent=False)
    finally:
        renewer.release(claim.subtask_id)
    return _record_success(claim, result)


def _claim(subtask_id, attempt, worker):
    now = timezone.now()
    claimed = Subtask.objects.filter(
        pk=subtask_id, attempt=attempt, status=Subtask.Status.QUEUED
    ).update(
        status=Subtask.Status.RUNNING,
        worker=worker,
        worker_pid=os.getpid(),
        tries=F("tries") + 1,
        started_at=now,
        lease_expires_at=lease_expiry(),
    )
    if not claimed:
        log.info("event=claim_rejected subtask=%s attempt=%s", subtask_id, attempt)
        return None
    row = Subtask.objects.values("job_id", "index", "payload", "tries", "job__type", "job__status").get(
        pk=subtask_id
    )
    if row["job__status"] == Job.Status.QUEUED:
        Job.objects.filter(pk=row["job_id"], status=Job.Status.QUEUED).update(
            status=Job.Status.RUNNING, started_at=now, status_changed_at=now
        )
    claim = Claim(
        subtask_id=subtask_id,
        attempt=attempt,
        job_id=row["job_id"],
        index=row["index"],
        payload=row["payload"],
        job_type=registry.find(row["job__type"]),
        tries=row["tries"],
    )
    if claim.job_type is None:
        # A worker deployed without this job type: say so on the row rather than crash.
        record_error(claim, f"job type {row['job__type']!r} is not installed on worker {worker}", permanent=True)
        return None
    return claim


def _fenced(claim):
    """The subtask row, only while this attempt still holds it."""
    return Subtask.objects.filter(
        pk=claim.subtask_id, attempt=claim.attempt, status=Subtask.Status.RUNNING
    )


def _record_success(claim, result):
    now = timezone.now()
    with transaction.atomic():
        if not _fenced(claim).update(
            status=Subtask.Status.SUCCEEDED, result=result, finished_at=now, lease_expires_at=None
        ):
            return _late(claim, "succeeded")
        Job.objects.filter(pk=claim.job_id).update(done=F("done") + 1)
        _advance(claim.job_id)
    return "succeeded"


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
    return Job.objects.values("status", "total", "done", "failed", "max_failures", "queue", "priority", "type").get(
        pk=job_id
    )


def _advance(job_id, job=None):
    """After one subtask ended: finalize the job if it was the last, else refill the window."""
    job = job or _locked_job(job_id)
    if job["status"] != Job.Status.RUNNING:
        return
    if job["done"] + job["failed"] >= job["total"]:
        entered = Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(
            status=Job.Status.FINALIZING, status_changed_at=timezone.now()
        )
        if entered:
            publish_on_commit([finalize_message(job_id, job["queue"])])
        return
    pairs = queue_pending(job_id, 1)
    publish_on_commit(subtask_messages(pairs, registry.get(job["type"]), job["queue"], job["priority"]))


def _describe(exc):
    """`Type: message` plus where in the job type it was raised: enough to diagnose, bounded."""
    # The first frame is `_execute` above; the rest are the job type's own.
    frames = traceback.extract_tb(exc.__traceback__)[1:][-3:]
    where = "; ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}" for f in frames)
    text = f"{type(exc).__name__}: {exc}" + (f" (at {where})" if where else "")
    return text[:MAX_ERROR_CHARS]

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

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, DataError, IntegrityError, transaction
from django.db.models import F

from jobs import finalize, hot_sql, registry
from jobs.clock import Now, later
from jobs.control import end_job
from jobs.dispatch import finalize_message, publish_on_commit, refill, time_limit_of
from jobs.leases import renewer
from jobs.models import Job, RecoveryEvent, Subtask
from jobs.registry import PermanentError, SubtaskContext
from jobs.results import UnstorableResult, check_storable
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


class InvalidPairs(ValueError):
    """A run_subtasks message whose arguments are not a non-empty list of [id, attempt]."""


#: Most pairs one message may name: far above LEPTON_MAX_BATCH, low enough that a forged
#: message cannot build a statement with millions of terms.
MAX_PAIRS = 1000


def validated_pairs(pairs):
    """The (subtask id, attempt) pairs of a message, or InvalidPairs. Anyone who can send
    a task by name can send any arguments: an empty or malformed list must touch no row."""
    if not isinstance(pairs, (list, tuple)) or not 0 < len(pairs) <= MAX_PAIRS:
        raise InvalidPairs(f"expected 1 to {MAX_PAIRS} [subtask id, attempt] pairs, got {pairs!r:.200}")
    valid = []
    for pair in pairs:
        if (
            not isinstance(pair, (list, tuple))
            or len(pair) != 2
            or not all(type(value) is int and value > 0 for value in pair)
        ):
            raise InvalidPairs(f"not a [subtask id, attempt] pair of positive integers: {pair!r:.200}")
        valid.append((pair[0], pair[1]))
    return valid


def run(pairs, worker):
    """Execute one delivery of "run these (subtask, attempt) pairs" of one job.

    Each pair is claimed, processed and recorded on its own terms; a pair whose attempt
    no longer holds (duplicate, late or redelivered message) is skipped. Should the
    database fail midway, the claims not yet recorded are handed back under the same
    attempt, so the task's retry (same pairs) really runs them. When this delivery
    recorded the job's last subtasks, its combine step may follow here, once they are
    committed (finalize.combine_here).
    """
    pairs = validated_pairs(pairs)
    claims = _claim(pairs, worker)
    if len(claims) < len(pairs):
        log.info("event=claim_rejected pairs=%d claimed=%d", len(pairs), len(claims))
    for claim in claims:
        renewer.hold(claim.subtask_id, claim.attempt)
    succeeded, elapsed, combine = [], 0.0, None
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
            outcomes, combine = _record_successes(succeeded, elapsed / len(claims))
            for outcome in outcomes:
                attempts.record(worker, "succeeded" if outcome == "succeeded" else None)
    except DatabaseError:
        _hand_back_unrecorded(claims)
        raise
    finally:
        for claim in claims:
            renewer.release(claim.subtask_id)
    if combine:
        finalize.combine_here(*combine)
    return len(claims)


def _hand_back_unrecorded(claims):
    """Claims still `running` under their attempt go back to `queued`, same attempt, the
    try not counted: the retried message names the same pairs and can claim them again."""
    try:
        for claim in claims:
            _fenced(claim).update(
                status=Subtask.Status.QUEUED, tries=F("tries") - 1, worker="", worker_pid=None,
                lease_expires_at=None, queued_at=Now(),
            )
    except DatabaseError:
        # The database is still failing: the leases lapse and the reconciler requeues them.
        log.exception("event=hand_back_failed subtasks=%d", len(claims))


@dataclass(frozen=True)
class Success:
    claim: Claim
    result: object


def _execute(claim):
    """A Success to record with the batch, or the outcome of recording the error now."""
    try:
        ctx = SubtaskContext(job_id=claim.job_id, index=claim.index, attempt=claim.attempt)
        result = claim.job_type.process(claim.payload, ctx)
        check_storable(result, claim.job_type.name, f"partial of subtask {claim.index}")
        return Success(claim, result)
    except SoftTimeLimitExceeded:
        error = f"timeout: the subtask ran past its time limit of {time_limit_of(claim.job_type)}s"
        return record_error(claim, error, permanent=not claim.job_type.retry_timeouts)
    except UnstorableResult as exc:
        return record_error(claim, str(exc)[:MAX_ERROR_CHARS], permanent=True)
    except PermanentError as exc:
        return record_error(claim, _describe(exc), permanent=True)
    except Exception as exc:
        return record_error(claim, _describe(exc), permanent=False)


def _claim(pairs, worker):
    """Claim the pairs still queued under their attempt; returns their Claims in order.

    Only while the job is queued or running, checked in the claiming statement itself
    (jobs.hot_sql): a cancel racing a requeue must not start a subtask of a canceled job.
    """
    rows = hot_sql.claim(pairs, worker, os.getpid())
    if len(rows) < len(pairs):
        # Queued rows left behind by a job that ended meanwhile will never run.
        Subtask.objects.filter(
            Subtask.at_attempts(pairs), Subtask.of_jobs_in(Job.FINAL), status=Subtask.Status.QUEUED
        ).update(status=Subtask.Status.CANCELED, finished_at=Now())
    if not rows:
        return []
    # A message names subtasks of one job.
    type_name = hot_sql.start_job(rows[0]["job_id"])
    if type_name is None:
        # Canceled and deleted since the claim: its subtask rows went with it.
        log.info("event=claim_of_deleted_job job=%s pairs=%d", rows[0]["job_id"], len(rows))
        return []
    job_type = registry.find(type_name)
    claims = [
        Claim(
            subtask_id=row["id"],
            attempt=row["attempt"],
            job_id=row["job_id"],
            index=row["index"],
            payload=row["payload"],
            job_type=job_type,
            tries=row["tries"],
        )
        for row in rows
    ]
    if job_type is None:
        # A worker deployed without this job type: say so on the rows rather than crash.
        error = f"job type {type_name!r} is not installed on worker {worker}"
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
    """Record a batch of successes of one job in one transaction; returns (each outcome,
    None or the (job id, queue, job type) whose combine step this process should run).

    The batch is written by one statement, in one savepoint. Only if
    the database refuses a result (too large, a character it cannot store) is it written
    again row by row, each in a savepoint of its own, so that one refused result fails
    only its subtask with the database's reason: the common path pays neither a
    statement nor a savepoint per subtask. Errors that are not about the value (the
    database is down, locked) propagate, and `run` hands the claims back for the task's
    retry.
    """
    job_id = successes[0].claim.job_id
    with transaction.atomic():
        try:
            with transaction.atomic():
                outcomes, refused = _write_together(successes), []
        except (DataError, IntegrityError):
            outcomes, refused = _write_one_by_one(successes)
        counted = outcomes.count("succeeded")
        combine = None
        if counted:
            job = hot_sql.count_successes(job_id, counted, next_batch(successes[0].claim.job_type, seconds_each))
            combine = _advance(job_id, job, combine_here=True)
    for position, claim, exc in refused:
        error = f"the database refused the partial of job type {claim.job_type.name!r}: {type(exc).__name__}: {exc}"
        outcomes[position] = record_error(claim, error[:MAX_ERROR_CHARS], permanent=True)
    return outcomes, combine


def _write_together(successes):
    """The outcome of each success, all written by one statement. Rows whose
    attempt lost its claim are not written; only then are the written ones read back, to
    tell them apart."""
    written = hot_sql.write_successes(
        [(success.claim.subtask_id, success.claim.attempt, success.result) for success in successes]
    )
    if written == len(successes):
        return ["succeeded"] * written
    # This attempt held the claim of each row it wrote, so those are ours.
    pairs = [(success.claim.subtask_id, success.claim.attempt) for success in successes]
    ours = set(
        Subtask.objects.filter(Subtask.at_attempts(pairs), status=Subtask.Status.SUCCEEDED).values_list("pk", flat=True)
    )
    return ["succeeded" if s.claim.subtask_id in ours else _late(s.claim, "succeeded") for s in successes]


def _write_one_by_one(successes):
    """(outcome of each success, [(position, claim, error) of the rows the database
    refused]): each row in a savepoint of its own."""
    outcomes, refused = [], []
    for success in successes:
        try:
            with transaction.atomic():
                written = _fenced(success.claim).update(
                    status=Subtask.Status.SUCCEEDED, result=success.result,
                    finished_at=Now(), lease_expires_at=None,
                )
        except (DataError, IntegrityError) as exc:
            refused.append((len(outcomes), success.claim, exc))
            outcomes.append("failed")
            continue
        outcomes.append("succeeded" if written else _late(success.claim, "succeeded"))
    return outcomes, refused


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
    """Fail the attempt (or schedule its retry) and advance the job. When this was the
    job's last subtask, its combine step is sent to a job worker, never run here: the
    reconciler calls this too, and must not run user code (invariant 10)."""
    if not permanent and claim.tries <= claim.job_type.max_retries:
        return _schedule_retry(claim, error)
    with transaction.atomic():
        if not _fenced(claim).update(
            status=Subtask.Status.FAILED, error=error, finished_at=Now(), lease_expires_at=None
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
        retry_at=later(delay),
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


def _advance(job_id, job=None, combine_here=False):
    """After subtasks ended: finalize the job if they were the last, else refill the window.

    Returns (job id, queue, job type) when this process won the job's move to finalizing,
    `combine_here` allows it to run the combine step itself and the type permits
    (finalize.may_combine_here); the move then takes the step's lease too, and the caller
    runs the step after commit. Else the winner sends the step as a message of its own,
    after commit, that runs under the type's combine_time_limit. Never inside the
    reconciler, which calls this too: it runs no user code (invariant 10). Either way,
    should the step be lost, the reconciler sends it again (reconcile.resend_stuck_finalize).
    """
    job = job or _locked_job(job_id)
    if job["status"] != Job.Status.RUNNING:
        return None
    if job["done"] + job["failed"] >= job["total"]:
        job_type = registry.find(job["type"])
        here = combine_here and job_type is not None and finalize.may_combine_here(job_type)
        if not hot_sql.enter_finalizing(job_id, take_lease=here):
            return None
        if here:
            return job_id, job["queue"], job_type
        publish_on_commit([finalize_message(job_id, job["queue"], job_type)])
        return None
    refill(job_id, job)
    return None


def _describe(exc):
    """`Type: message` plus where in the job type it was raised: enough to diagnose, bounded."""
    # The first frame is `_execute` above; the rest are the job type's own.
    frames = traceback.extract_tb(exc.__traceback__)[1:][-3:]
    where = "; ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}" for f in frames)
    text = f"{type(exc).__name__}: {exc}" + (f" (at {where})" if where else "")
    return text[:MAX_ERROR_CHARS]

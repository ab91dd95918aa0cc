"""The combine step: run once per job, idempotent if it runs again (invariant 4).

It runs on a job worker under the job's lease, which the worker renews, and under the
type's combine_time_limit (never a subtask's limit, never in the reconciler). Mostly it
arrives as a `finalize_job` message; the worker that records a job's last successes runs
it at once instead when that keeps those guarantees (`combine_here`). A result that
cannot be stored as JSON fails the job at once, with the reason.
"""

import logging
from contextlib import closing

from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError, DataError, IntegrityError
from django.db.models import F, Q

from jobs import hot_sql, registry
from jobs.clock import Now, lease_expiry
from jobs.dispatch import combine_time_limit_of, finalize_message, publish
from jobs.leases import renewer
from jobs.models import Job
from jobs.results import UnstorableResult, check_storable
from jobs.stored_params import StoredParams

log = logging.getLogger(__name__)

#: Partials are streamed from the database to `combine` in batches of this many rows.
PARTIALS_BATCH = 2000


def finalize(job_id):
    if not _take_lease(job_id):
        return "stale"
    type_name = Job.objects.values_list("type", flat=True).get(pk=job_id)
    job_type = registry.find(type_name)
    if job_type is None:
        error = f"combine failed: job type {type_name!r} is not installed on this worker"
        return _finish(job_id, {"status": Job.Status.FAILED, "error": error})
    return _combine_and_write(job_id, job_type)


def may_combine_here(job_type):
    """Whether the worker recording a job's last successes may run its combine step in
    that same message, saving the finalize_job round trip (one broker hop and a task).

    Only when neither limit is the type's own: the message then runs under the platform's
    default subtask limit, which the combine step also has, so the only limit that can
    stop it early is the message's, and `combine_here` hands the step to a finalize_job
    message with its whole limit when it does. Types with their own limits keep the
    message, where combine_time_limit is exactly theirs.
    """
    return job_type.time_limit is None and job_type.combine_time_limit is None


def combine_here(job_id, queue, job_type):
    """The combine step, in the task that recorded the job's last successes (after their
    commit, outside any transaction), under the lease their transaction took with the
    job's move to finalizing (execution._advance): the same conditional write, so still
    exactly once. Returns the job's outcome. Should this message's time limit fire
    meanwhile, the lease is given back (the try not counted) and the step sent as a
    finalize_job message."""
    try:
        return _combine_and_write(job_id, job_type, timeouts_fail=False)
    except SoftTimeLimitExceeded:
        log.warning("event=combine_handed_over job=%s reason=message time limit", job_id)
        Job.objects.filter(pk=job_id, status=Job.Status.FINALIZING).update(
            lease_expires_at=None, combine_attempts=F("combine_attempts") - 1
        )
        publish([finalize_message(job_id, queue, job_type)])
        return "handed over"


def _take_lease(job_id):
    # A second combine waits out a live one instead of running beside it, and the
    # reconciler resends the step if this worker dies.
    return (
        Job.objects.filter(pk=job_id, status=Job.Status.FINALIZING)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=Now()))
        .update(lease_expires_at=lease_expiry(), combine_attempts=F("combine_attempts") + 1)
    )


def _combine_and_write(job_id, job_type, timeouts_fail=True):
    renewer.hold_job(job_id)
    try:
        outcome = _combine(job_id, job_type, timeouts_fail)
    finally:
        renewer.release_job(job_id)
    return _finish(job_id, outcome)


def _finish(job_id, outcome):
    """Write the step's outcome; the job's final status, or "stale" if it was final already."""
    try:
        written = _write(job_id, outcome)
    except (DataError, IntegrityError) as exc:
        # Not caught by the check (a value this database refuses): fail, do not loop.
        outcome = {"status": Job.Status.FAILED, "error": f"the database refused the result: {type(exc).__name__}: {exc}"}
        written = _write(job_id, outcome)
    if written:
        log.info("event=job_finished job=%s status=%s", job_id, outcome["status"])
    return outcome["status"] if written else "stale"


def _write(job_id, outcome):
    # Only the first combine to finish writes; a rerun after a crash finds the job final.
    return hot_sql.finish_job(job_id, outcome)


def _combine(job_id, job_type, timeouts_fail):
    try:
        with closing(hot_sql.succeeded_partials(job_id, PARTIALS_BATCH)) as partials:
            result = job_type.combine(partials, StoredParams(job_id))
        check_storable(result, job_type.name, "result")
    except DatabaseError:
        # Reading the partials or the params failed, not the combine: the step is tried
        # again (the lease runs out, the reconciler sends it; LEPTON_MAX_COMBINE_ATTEMPTS).
        raise
    except SoftTimeLimitExceeded:
        if not timeouts_fail:
            raise
        error = f"combine failed: timeout: it ran past its time limit of {combine_time_limit_of(job_type)}s"
        return {"status": Job.Status.FAILED, "error": error}
    except UnstorableResult as exc:
        return {"status": Job.Status.FAILED, "error": f"combine failed: {exc}"}
    except Exception as exc:
        log.exception("event=combine_failed job=%s", job_id)
        return {"status": Job.Status.FAILED, "error": f"combine failed: {type(exc).__name__}: {exc}"}
    return {"status": Job.Status.SUCCEEDED, "result": result}

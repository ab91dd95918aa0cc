"""The combine step: run once per job, idempotent if it runs again (invariant 4).

It always arrives as a `finalize_job` message on a job worker, under the job type's
combine_time_limit (never a subtask's limit, never in the reconciler). A result that
cannot be stored as JSON fails the job at once, with the reason.
"""

import logging

from celery.exceptions import SoftTimeLimitExceeded
from django.db import DataError, IntegrityError
from django.db.models import F, Q

from jobs import registry
from jobs.clock import Now, lease_expiry
from jobs.dispatch import combine_time_limit_of
from jobs.leases import renewer
from jobs.models import Job, JobParams, Subtask
from jobs.results import UnstorableResult, check_storable

log = logging.getLogger(__name__)

#: Partials are streamed from the database to `combine` in batches of this many rows.
PARTIALS_BATCH = 2000


def finalize(job_id):
    # Take the job's lease: a second combine message waits out a live one instead of
    # running beside it, and the reconciler resends the step if this worker dies.
    taken = (
        Job.objects.filter(pk=job_id, status=Job.Status.FINALIZING)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=Now()))
        .update(lease_expires_at=lease_expiry(), combine_attempts=F("combine_attempts") + 1)
    )
    if not taken:
        return "stale"
    renewer.hold_job(job_id)
    try:
        outcome = _combine(job_id)
    finally:
        renewer.release_job(job_id)
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
    return Job.objects.filter(pk=job_id, status=Job.Status.FINALIZING).update(
        finished_at=Now(), status_changed_at=Now(), lease_expires_at=None, **outcome
    )


def _combine(job_id):
    type_name = Job.objects.values_list("type", flat=True).get(pk=job_id)
    job_type = registry.find(type_name)
    if job_type is None:
        return {"status": Job.Status.FAILED, "error": f"combine failed: job type {type_name!r} is not installed on this worker"}
    params = JobParams.objects.values_list("params", flat=True).get(job_id=job_id)
    partials = (
        Subtask.objects.filter(job_id=job_id, status=Subtask.Status.SUCCEEDED)
        .order_by("index")
        .values_list("result", flat=True)
        .iterator(chunk_size=PARTIALS_BATCH)
    )
    try:
        result = job_type.combine(partials, params)
        check_storable(result, type_name, "result")
    except SoftTimeLimitExceeded:
        error = f"combine failed: timeout: it ran past its time limit of {combine_time_limit_of(job_type)}s"
        return {"status": Job.Status.FAILED, "error": error}
    except UnstorableResult as exc:
        return {"status": Job.Status.FAILED, "error": f"combine failed: {exc}"}
    except Exception as exc:
        log.exception("event=combine_failed job=%s", job_id)
        return {"status": Job.Status.FAILED, "error": f"combine failed: {type(exc).__name__}: {exc}"}
    return {"status": Job.Status.SUCCEEDED, "result": result}

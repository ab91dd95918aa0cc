"""The combine step: run once per job, idempotent if it runs again (invariant 4)."""

import logging

from django.db.models import Q
from django.utils import timezone

from jobs import registry
from jobs.leases import lease_expiry, renewer
from jobs.models import Job, JobParams, Subtask

log = logging.getLogger(__name__)

#: Partials are streamed from the database to `combine` in batches of this many rows.
PARTIALS_BATCH = 2000


def finalize(job_id):
    # Take the job's lease: a second combine message waits out a live one instead of
    # running beside it, and the reconciler resends the step if this worker dies.
    now = timezone.now()
    taken = (
        Job.objects.filter(pk=job_id, status=Job.Status.FINALIZING)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        .update(lease_expires_at=lease_expiry())
    )
    if not taken:
        return "stale"
    renewer.hold_job(job_id)
    try:
        outcome = _combine(job_id)
    finally:
        renewer.release_job(job_id)
    now = timezone.now()
    # Only the first combine to finish writes; a rerun after a crash finds the job final.
    written = Job.objects.filter(pk=job_id, status=Job.Status.FINALIZING).update(
        finished_at=now, status_changed_at=now, lease_expires_at=None, **outcome
    )
    if written:
        log.info("event=job_finished job=%s status=%s", job_id, outcome["status"])
    return outcome["status"] if written else "stale"


def _combine(job_id):
    type_name = Job.objects.values_list("type", flat=True).get(pk=job_id)
    params = JobParams.objects.values_list("params", flat=True).get(job_id=job_id)
    partials = (
        Subtask.objects.filter(job_id=job_id, status=Subtask.Status.SUCCEEDED)
        .order_by("index")
        .values_list("result", flat=True)
        .iterator(chunk_size=PARTIALS_BATCH)
    )
    try:
        return {"status": Job.Status.SUCCEEDED, "result": registry.get(type_name).combine(partials, params)}
    except Exception as exc:
        log.exception("event=combine_failed job=%s", job_id)
        return {"status": Job.Status.FAILED, "error": f"combine failed: {type(exc).__name__}: {exc}"}

"""The combine step: run once per job, idempotent if it runs again (invariant 4)."""

import logging

from django.utils import timezone

from jobs import registry
from jobs.models import Job, Subtask

log = logging.getLogger(__name__)

#: Partials are streamed from the database to `combine` in batches of this many rows.
PARTIALS_BATCH = 2000


def finalize(job_id):
    job = Job.objects.filter(pk=job_id).values("status", "type", "params").first()
    if job is None or job["status"] != Job.Status.FINALIZING:
        return "stale"
    partials = (
        Subtask.objects.filter(job_id=job_id, status=Subtask.Status.SUCCEEDED)
        .order_by("index")
        .values_list("result", flat=True)
        .iterator(chunk_size=PARTIALS_BATCH)
    )
    try:
        result = registry.get(job["type"]).combine(partials, job["params"])
        outcome = {"status": Job.Status.SUCCEEDED, "result": result}
    except Exception as exc:
        log.exception("event=combine_failed job=%s", job_id)
        outcome = {"status": Job.Status.FAILED, "error": f"combine failed: {type(exc).__name__}: {exc}"}
    now = timezone.now()
    # Only the first combine to finish writes; a rerun after a crash finds the job final.
    written = Job.objects.filter(pk=job_id, status=Job.Status.FINALIZING).update(
        finished_at=now, status_changed_at=now, **outcome
    )
    if written:
        log.info("event=job_finished job=%s status=%s", job_id, outcome["status"])
    return outcome["status"] if written else "stale"

"""Changing a job's course: cancel, fail when too many subtasks fail, retry when failed."""

from django.db import transaction

from jobs import registry
from jobs.admission import admit_retry
from jobs.clock import Now
from jobs.conflicts import retried_on_conflict
from jobs.dispatch import finalize_message, publish_on_commit, refill
from jobs.models import Job, RecoveryEvent, Subtask


def end_job(job_id, status, error=""):
    """Move an active job to a final status; its unstarted subtasks are never run.

    Subtasks already running finish, but their outcome no longer moves the job: it has
    left `running`, so it can never enter `finalizing`. False if the job was final.
    """
    now = Now()
    with transaction.atomic():
        ended = Job.objects.filter(pk=job_id, status__in=Job.ACTIVE).update(
            status=status, error=error, finished_at=now, status_changed_at=now
        )
        if ended:
            Subtask.objects.filter(job_id=job_id, status__in=Subtask.UNSTARTED).update(
                status=Subtask.Status.CANCELED, finished_at=now
            )
    return bool(ended)


@retried_on_conflict
def cancel_job(job_id):
    return end_job(job_id, Job.Status.CANCELED)


@retried_on_conflict
def retry_job(job_id):
    """Run a failed job again: its failed and never-run subtasks get a fresh retry budget.

    Subtasks that succeeded keep their results; new attempts continue the attempt count,
    so a message or completion from before the retry is still fenced off. False if the
    job is not failed.
    """
    with transaction.atomic():
        reopened = Job.objects.filter(pk=job_id, status=Job.Status.FAILED).update(
            status=Job.Status.RUNNING, error="", result=None, failed=0,
            finished_at=None, status_changed_at=Now(), lease_expires_at=None, combine_attempts=0,
        )
        if not reopened:
            return False
        rerun = Subtask.objects.filter(
            job_id=job_id, status__in=(Subtask.Status.FAILED, Subtask.Status.CANCELED)
        ).update(
            status=Subtask.Status.PENDING, tries=0, error="", result=None,
            worker="", finished_at=None, retry_at=None,
        )
        job = Job.objects.values(*Job.PROGRESS_FIELDS).get(pk=job_id)
        if job["done"] >= job["total"]:
            # Only the combine step had failed.
            Job.objects.filter(pk=job_id).update(status=Job.Status.FINALIZING)
            publish_on_commit([finalize_message(job_id, job["queue"], registry.find(job["type"]))])
        else:
            refill(job_id, job)
        RecoveryEvent.objects.create(
            kind=RecoveryEvent.Kind.JOB_RETRIED, job_id=job_id, detail=f"{rerun} subtask(s) to run again"
        )
    return True


@retried_on_conflict
def retry_admitted(job_id):
    """A user's retry: admission and the retry in one transaction, so a refusal
    (AdmissionRefused) changes nothing. False if the job is not failed."""
    with transaction.atomic():
        admit_retry(job_id)
        return retry_job(job_id)


@retried_on_conflict
def delete_job(job_id):
    """Delete a final job with its params, subtasks and events; False if it is active.

    An active job is never deleted: its subtasks may be running and its messages are in
    the broker. The row is locked (PostgreSQL; SQLite's IMMEDIATE transaction already
    serialises writers) so a /retry/ cannot reopen the job between the check and the
    delete.
    """
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id, status__in=Job.FINAL).first()
        if job is None:
            return False
        job.delete()
    return True

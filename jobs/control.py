"""Ending a job early: cancel by its owner, or failure when too many subtasks fail."""

from django.db import transaction
from django.utils import timezone

from jobs.models import Job, Subtask


def end_job(job_id, status, error=""):
    """Move an active job to a final status; its unstarted subtasks are never run.

    Subtasks already running finish, but their outcome no longer moves the job: it has
    left `running`, so it can never enter `finalizing`. False if the job was final.
    """
    now = timezone.now()
    with transaction.atomic():
        ended = Job.objects.filter(pk=job_id, status__in=Job.ACTIVE).update(
            status=status, error=error, finished_at=now, status_changed_at=now
        )
        if ended:
            Subtask.objects.filter(job_id=job_id, status__in=Subtask.UNSTARTED).update(
                status=Subtask.Status.CANCELED, finished_at=now
            )
    return bool(ended)


def cancel_job(job_id):
    return end_job(job_id, Job.Status.CANCELED)

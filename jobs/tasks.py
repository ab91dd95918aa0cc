"""Celery tasks: thin entry points that take ids and hand over to the pipeline modules."""

from celery import shared_task
from django.db import DatabaseError

from jobs import execution, finalize, quarantine, reconcile as reconciler


# A database error says nothing about the subtasks: send the message again rather than
# drop it (its pairs are fenced, so a second delivery runs each at most once).
@shared_task(
    name="jobs.tasks.run_subtasks", bind=True,
    autoretry_for=(DatabaseError,), retry_backoff=1, retry_backoff_max=30, max_retries=10,
)
def run_subtasks(self, pairs):
    """Run [subtask id, attempt] pairs of one job; returns how many this delivery claimed."""
    return execution.run(pairs, worker=self.request.hostname)


@shared_task(name="jobs.tasks.finalize_job")
def finalize_job(job_id):
    return finalize.finalize(job_id)


@shared_task(name="jobs.tasks.reconcile")
def reconcile():
    return reconciler.reconcile()


@shared_task(name="jobs.tasks.review_workers")
def review_workers():
    return quarantine.review()

"""Celery tasks: thin entry points that take ids and hand over to the pipeline modules."""

from celery import shared_task

from jobs import execution, finalize, quarantine, reconcile as reconciler


@shared_task(name="jobs.tasks.run_subtasks", bind=True)
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

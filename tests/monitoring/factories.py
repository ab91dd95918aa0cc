"""Rows as the engine writes them, created directly: monitoring only reads them."""

from datetime import timedelta

from django.contrib.auth import get_user_model

from jobs.models import Job, Subtask, Worker


def user(name="owner"):
    return get_user_model().objects.get_or_create(username=name)[0]


def job(type="primes", queue="cpu", status=Job.Status.RUNNING, total=0, done=0, failed=0, **fields):
    return Job.objects.create(
        owner=user(), type=type, queue=queue, status=status, total=total, done=done, failed=failed, **fields
    )


def subtask(job, index, status, **fields):
    return Subtask.objects.create(job=job, index=index, payload={}, status=status, **fields)


def finished_subtask(job, index, status, finished_at, wait=1.0, run=2.0, **fields):
    """A subtask queued `wait` seconds before it started and running `run` seconds."""
    started_at = finished_at - timedelta(seconds=run)
    return subtask(
        job, index, status, queued_at=started_at - timedelta(seconds=wait), started_at=started_at,
        finished_at=finished_at, **fields,
    )


def worker(hostname, now, seen_ago=0.0, queues=("default",), consuming=None, **fields):
    return Worker.objects.create(
        hostname=hostname, queues=list(queues), consuming=list(queues if consuming is None else consuming),
        concurrency=fields.pop("concurrency", 2), started_at=fields.pop("started_at", now - timedelta(hours=1)),
        last_seen_at=now - timedelta(seconds=seen_ago), **fields,
    )

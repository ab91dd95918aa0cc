"""Load as routing and admission see it: broker queue depths, outstanding work, window size.

Monitoring reads the same functions, so the health page and the dispatcher agree.
"""

import time

from amqp.exceptions import ChannelError
from celery import current_app
from django.conf import settings
from django.db.models import Count, F, Sum

from jobs.models import Job
from jobs.workers import live_workers


def broker_depths():
    """{queue: messages waiting in the broker}, all priority levels together."""
    with current_app.connection_for_write() as connection:
        channel = connection.default_channel
        return {name: _depth(channel, name) for name in [*settings.LEPTON_QUEUES, settings.CONTROL_QUEUE]}


def _depth(channel, name):
    try:
        return channel.queue_declare(queue=name, passive=True).message_count
    except ChannelError:
        # Redis keeps no empty list: a queue nobody has sent to yet does not exist.
        return 0


def outstanding_by_queue():
    """{queue: {"jobs", "subtasks"}}: active jobs and their unfinished subtasks, from the rows."""
    rows = (
        Job.objects.filter(status__in=Job.ACTIVE)
        .values("queue")
        .annotate(jobs=Count("id"), subtasks=Sum(F("total") - F("done") - F("failed")))
    )
    return {row["queue"]: {"jobs": row["jobs"], "subtasks": row["subtasks"] or 0} for row in rows}


#: total_concurrency() is read on every submission and changes only when workers come and
#: go, so each process re-reads it at most this often.
CONCURRENCY_TTL_SECONDS = 5.0
_concurrency_cache = {"value": None, "read_at": 0.0}


def total_concurrency():
    """Pool processes of the live workers on job queues, or this machine's configured
    concurrency if none report."""
    if time.monotonic() - _concurrency_cache["read_at"] > CONCURRENCY_TTL_SECONDS:
        job_queues = set(settings.LEPTON_QUEUES)
        reported = sum(w.concurrency for w in live_workers() if job_queues & set(w.queues))
        _concurrency_cache.update(value=reported or settings.LEPTON_WORKER_CONCURRENCY, read_at=time.monotonic())
    return _concurrency_cache["value"]


def job_window():
    """Messages one job may have in the broker: LEPTON_JOB_WINDOW, or by default four per
    pool process (enough that a process finishing one always finds the next waiting, few
    enough that a job submitted later waits behind at most that many)."""
    return settings.LEPTON_JOB_WINDOW or max(8, 4 * total_concurrency())

"""Handing subtasks to the broker: pending -> queued rows, then messages after commit.

Messages are sent only once the rows they name are committed (invariant 2), in one
pipelined batch rather than a round trip each. A crash between commit and publish
leaves rows `queued` with no message; the reconciler re-sends those.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field

from celery import current_app
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from jobs import registry
from jobs.models import Job, Subtask
from jobs.routing import FINALIZE_PRIORITY, message_priority

log = logging.getLogger(__name__)

RUN_SUBTASKS = "jobs.tasks.run_subtasks"
#: Seconds between a subtask's soft time limit (a `timeout` error) and killing its process.
HARD_TIME_LIMIT_GRACE = 5
FINALIZE_JOB = "jobs.tasks.finalize_job"


@dataclass(frozen=True)
class Message:
    task: str
    args: tuple
    queue: str
    priority: int
    options: dict = field(default_factory=dict)


def subtask_messages(pairs, job_type, queue, priority, batch=1):
    """Messages of up to `batch` (subtask id, attempt) pairs of one job, with its type's time limits."""
    level = message_priority(priority)
    limits = {}
    if job_type.time_limit is not None:
        limits = {
            "soft_time_limit": job_type.time_limit,
            "time_limit": job_type.time_limit + HARD_TIME_LIMIT_GRACE,
        }
    return [
        Message(RUN_SUBTASKS, (pairs[start : start + batch],), queue, level, limits)
        for start in range(0, len(pairs), batch)
    ]


#: Fields to read with subtask rows that `publish_by_job` routes.
ROUTING_FIELDS = ("job__type", "job__queue", "job__priority")


def publish_by_job(rows):
    """Publish subtask rows (dicts with id, attempt and ROUTING_FIELDS) now, routed by job."""
    by_job = defaultdict(list)
    for row in rows:
        by_job[tuple(row[key] for key in ROUTING_FIELDS)].append((row["id"], row["attempt"]))
    publish(
        [
            message
            for (type_name, queue, priority), pairs in by_job.items()
            for message in subtask_messages(pairs, registry.get(type_name), queue, priority)
        ]
    )


def finalize_message(job_id, queue):
    return Message(FINALIZE_JOB, (job_id,), queue, FINALIZE_PRIORITY)


def queue_pending(job_id, limit):
    """Move up to `limit` pending subtasks of a job to queued, lowest index first.

    Callers hold the job's row lock (or created the rows in this transaction), so no
    other process picks the same pending rows; the status condition is a second fence.
    Returns the (id, attempt) pairs to publish.
    """
    if limit <= 0:
        return []
    rows = list(
        Subtask.objects.filter(job_id=job_id, status=Subtask.Status.PENDING)
        .order_by("index")
        .values_list("id", "attempt")[:limit]
    )
    if not rows:
        return []
    ids = [sid for sid, _ in rows]
    updated = Subtask.objects.filter(id__in=ids, status=Subtask.Status.PENDING).update(
        status=Subtask.Status.QUEUED, attempt=F("attempt") + 1, queued_at=timezone.now()
    )
    if updated != len(ids):
        return list(
            Subtask.objects.filter(id__in=ids, status=Subtask.Status.QUEUED).values_list(
                "id", "attempt"
            )
        )
    return [(sid, attempt + 1) for sid, attempt in rows]


def refill(job_id, job):
    """Top up a job's window (`window` messages of `batch` subtasks) once a message's worth
    of room opened; several messages go out in one pipelined publish.

    `job` holds the row's PROGRESS_FIELDS; the caller holds the job's row lock.
    """
    in_flight = job["dispatched"] - job["done"] - job["failed"]
    room = job["window"] * job["batch"] - in_flight
    if room < job["batch"]:
        return
    pairs = queue_pending(job_id, room)
    if pairs:
        Job.objects.filter(pk=job_id).update(dispatched=F("dispatched") + len(pairs))
        publish_on_commit(
            subtask_messages(pairs, registry.get(job["type"]), job["queue"], job["priority"], job["batch"])
        )


def publish(messages):
    """Send messages now, pipelined through one producer."""
    if not messages:
        return
    app = current_app
    with app.producer_or_acquire() as producer, producer.batch():
        for message in messages:
            app.send_task(
                message.task,
                args=message.args,
                queue=message.queue,
                priority=message.priority,
                producer=producer,
                **message.options,
            )


def publish_on_commit(messages):
    """Send messages once the surrounding transaction commits (now, outside one)."""
    if messages:
        transaction.on_commit(lambda: _publish_logged(messages))


def _publish_logged(messages):
    try:
        publish(messages)
    except Exception:
        # The rows are committed; the reconciler re-sends what never arrived.
        log.exception("event=publish_failed messages=%d", len(messages))

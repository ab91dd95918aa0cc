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
from django.db.models import F, Q
from django.utils import timezone

from jobs import registry
from jobs.models import Subtask
from jobs.routing import FINALIZE_PRIORITY, message_priority

log = logging.getLogger(__name__)

RUN_SUBTASKS = "jobs.tasks.run_subtasks"
FINALIZE_JOB = "jobs.tasks.finalize_job"
#: Seconds between a subtask's soft time limit (a `timeout` error) and killing its process.
HARD_TIME_LIMIT_GRACE = 5


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


def queue_pending(job_id, limit, batch=1):
    """Move up to `limit` pending subtasks of a job to queued, lowest index first, marked
    with the message (chunk of `batch`) that will carry them. Returns the (id, attempt)
    pairs to publish, in that order, for subtask_messages(..., batch).

    Callers hold the job's row lock (or created the rows in this transaction), so no
    other process picks the same pending rows; the status condition is a second fence.
    """
    rows = list(
        Subtask.objects.filter(job_id=job_id, status=Subtask.Status.PENDING)
        .order_by("index")
        .values_list("id", "attempt", "index")[: max(limit, 0)]
    )
    now = timezone.now()
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        Subtask.objects.filter(id__in=[sid for sid, _, _ in chunk], status=Subtask.Status.PENDING).update(
            status=Subtask.Status.QUEUED, attempt=F("attempt") + 1, queued_at=now, message=chunk[0][2]
        )
    return [(sid, attempt + 1) for sid, attempt, _ in rows]


def requeue_running(row, now, only_if=Q(), **changes):
    """Hand a running subtask out again under a new attempt, if `row`'s attempt still holds
    it (and `only_if`); the old attempt's messages and completions are fenced off from then
    on. Returns the row with its new attempt, to publish, or None."""
    requeued = Subtask.objects.filter(
        only_if, pk=row["id"], attempt=row["attempt"], status=Subtask.Status.RUNNING
    ).update(
        status=Subtask.Status.QUEUED,
        attempt=F("attempt") + 1,
        queued_at=now,
        message=F("index"),
        worker="",
        lease_expires_at=None,
        **changes,
    )
    return {**row, "attempt": row["attempt"] + 1} if requeued else None


def messages_waiting(job_id):
    """Messages of this job in the broker: those whose subtasks are queued, not yet claimed."""
    return (
        Subtask.objects.filter(job_id=job_id, status=Subtask.Status.QUEUED)
        .order_by()
        .values("message")
        .distinct()
        .count()
    )


def refill(job_id, job):
    """Top the job up to `window` messages in the broker, each of `batch` subtasks, in one
    pipelined publish (invariant 7). `job` holds the row's PROGRESS_FIELDS; the caller
    holds the job's row lock."""
    room = job["window"] - messages_waiting(job_id)
    if room <= 0:
        return
    pairs = queue_pending(job_id, room * job["batch"], job["batch"])
    publish_on_commit(subtask_messages(pairs, registry.get(job["type"]), job["queue"], job["priority"], job["batch"]))


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

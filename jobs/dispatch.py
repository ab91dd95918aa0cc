"""Handing subtasks to the broker: pending -> queued rows, then messages after commit.

Messages are sent only once the rows they name are committed (invariant 2), in one
pipelined batch rather than a round trip each. A crash between commit and publish
leaves rows `queued` with no message; the reconciler re-sends those.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from jobs import hot_sql, registry
from jobs.clock import Now
from jobs.models import Job, Subtask
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


def time_limit_of(job_type):
    """Seconds a subtask of this type may run: its own limit, else the platform default,
    so a hung `process` is killed and failed over instead of renewing its lease forever."""
    return job_type.time_limit if job_type.time_limit is not None else settings.LEPTON_DEFAULT_TIME_LIMIT_SECONDS


def combine_time_limit_of(job_type):
    """Seconds the combine step may run: the type's combine_time_limit, else the default."""
    limit = getattr(job_type, "combine_time_limit", None)
    return limit if limit is not None else settings.LEPTON_DEFAULT_TIME_LIMIT_SECONDS


def _limits(seconds):
    return {"soft_time_limit": seconds, "time_limit": seconds + HARD_TIME_LIMIT_GRACE}


def subtask_messages(pairs, job_type, queue, priority, batch=1):
    """Messages of up to `batch` (subtask id, attempt) pairs of one job, with its type's time limits."""
    level = message_priority(priority)
    limits = _limits(time_limit_of(job_type))
    return [
        Message(RUN_SUBTASKS, (pairs[start : start + batch],), queue, level, limits)
        for start in range(0, len(pairs), batch)
    ]


#: Fields to read with subtask rows that `publish_by_job` routes.
ROUTING_FIELDS = ("job__type", "job__queue", "job__priority")


def publish_by_job(rows):
    """Publish subtask rows (dicts with id, attempt and ROUTING_FIELDS) now, routed by job.

    Callers leave out rows of job types this host does not know (jobs.reconcile marks
    those jobs); such a row found here anyway is not sent, and its queued age lets the
    reconciler find it again.
    """
    by_job = defaultdict(list)
    for row in rows:
        by_job[tuple(row[key] for key in ROUTING_FIELDS)].append((row["id"], row["attempt"]))
    messages = []
    for (type_name, queue, priority), pairs in by_job.items():
        job_type = registry.find(type_name)
        if job_type is None:
            log.warning("event=publish_skipped reason=unknown_job_type type=%r subtasks=%d", type_name, len(pairs))
            continue
        messages += subtask_messages(pairs, job_type, queue, priority)
    publish(messages)


def finalize_message(job_id, queue, job_type=None):
    """The combine step of a job, as a message of its own with the type's combine limits."""
    limits = _limits(combine_time_limit_of(job_type) if job_type else settings.LEPTON_DEFAULT_TIME_LIMIT_SECONDS)
    return Message(FINALIZE_JOB, (job_id,), queue, FINALIZE_PRIORITY, limits)


def queue_pending(job_id, limit, batch=1):
    """Move up to `limit` pending subtasks of a job to queued, lowest index first, marked
    with the message (chunk of `batch`) that will carry them. Returns the (id, attempt)
    pairs to publish, in that order, for subtask_messages(..., batch).

    Callers hold the job's row lock (or created the rows in this transaction), so no
    other process picks the same pending rows; the status condition is a second fence.
    Written as SQL text (jobs.hot_sql): a refill runs this on every message.
    """
    return hot_sql.queue_pending(job_id, limit, batch) if limit > 0 else []


def requeue_running(row, now, only_if=Q(), **changes):
    """Hand a running subtask out again under a new attempt, if `row`'s attempt still holds
    it (and `only_if`) and its job is still active — checked in this UPDATE, so a cancel
    committed since the row was read wins; the old attempt's messages and completions are
    fenced off from then on. Returns the row with its new attempt, to publish, or None."""
    requeued = Subtask.objects.filter(
        only_if, Subtask.of_jobs_in(Job.ACTIVE), pk=row["id"], attempt=row["attempt"], status=Subtask.Status.RUNNING,
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


def refill(job_id, job):
    """Top the job up to `window` messages in the broker, each of `batch` subtasks, in one
    pipelined publish (invariant 7). `job` holds the row's PROGRESS_FIELDS; the caller
    holds the job's row lock."""
    job_type = registry.find(job["type"])
    if job_type is None:
        # Not installed on this host: leave the rest pending; jobs.waiting says why.
        log.warning("event=refill_skipped reason=unknown_job_type job=%s type=%r", job_id, job["type"])
        return
    room = job["window"] - hot_sql.messages_waiting(job_id)
    if room <= 0:
        return
    pairs = queue_pending(job_id, room * job["batch"], job["batch"])
    publish_on_commit(subtask_messages(pairs, job_type, job["queue"], job["priority"], job["batch"]))


#: Celery's own cap on the argument text a message carries for monitors (argsrepr_maxsize).
ARGSREPR_CHARS = 1024


def publish(messages):
    """Send messages now, pipelined through one producer.

    The argument text monitors show (Flower) is given, not left to Celery's saferepr: that
    pure-Python walk of the pairs took most of the CPU of building a message in a profiled
    worker, and the arguments (ids and attempts) have a plain repr that reads the same.
    """
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
                argsrepr=repr(message.args)[:ARGSREPR_CHARS],
                kwargsrepr="{}",
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
        # The rows are committed; the reconciler re-sends what never arrived. Stamp the
        # subtasks as queued long ago, so its next tick does so whatever the broker.
        log.exception("event=publish_failed messages=%d", len(messages))
        _mark_unsent(messages)


def _mark_unsent(messages):
    pairs = [tuple(pair) for m in messages if m.task == RUN_SUBTASKS for pair in m.args[0]]
    if not pairs:
        return
    try:
        long_ago = Now() - timedelta(seconds=settings.LEPTON_REDISPATCH_SECONDS + 1)
        Subtask.objects.filter(Subtask.at_attempts(pairs), status=Subtask.Status.QUEUED).update(queued_at=long_ago)
    except Exception:
        log.exception("event=mark_unsent_failed subtasks=%d", len(pairs))

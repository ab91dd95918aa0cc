"""Why a job waits (invariant 9), computed from the rows when read.

Nothing here is stored or kept up to date by a background process, so the answer is
right even when no worker or beat is alive — exactly when it matters most. The job
detail API, monitoring and the web pages call `waiting_reason(job)`; it returns "" for a
final job or one making progress normally.
"""

from datetime import timedelta

from django.conf import settings

from jobs import hot_sql, registry
from jobs.clock import db_now
from jobs.load import broker_depths
from jobs.models import Job, Subtask
from jobs.workers import live_workers


#: The subtask states `waiting_reason` asks a job's counts of.
WAITING_STATES = (Subtask.Status.RUNNING, Subtask.Status.QUEUED, Subtask.Status.RETRY_WAIT)


def count_waiting(job):
    """`job`, with its subtasks running, queued and waiting for a retry counted (as
    `running`, `queued`, `retry_waiting`) by one statement: what a job's progress and
    `waiting_reason` show."""
    counts = hot_sql.subtask_counts(job.pk, [status.value for status in WAITING_STATES])
    job.running, job.queued, job.retry_waiting = (counts.get(status, 0) for status in WAITING_STATES)
    return job


def waiting_reason(job):
    """One sentence saying why `job` is not progressing, or "".

    The API computes this on every poll of a job, so it reads the live workers once and
    trusts the counts `count_waiting` set on the job instead of counting again: a poll of
    a job with subtasks running costs the workers' query here, nothing more. A job just
    submitted carries its counts and the database time they were taken (`counted_at`;
    jobs.submit), so answering its POST does not count its subtasks.
    """
    if job.status in Job.FINAL:
        return ""
    if registry.find(job.type) is None:
        return f"job type {job.type!r} is not installed on this host"
    now = getattr(job, "counted_at", None) or db_now()
    workers = live_workers(now)
    if job.status == Job.Status.FINALIZING:
        return _combine_reason(job, now, workers)
    return _consumer_reason(job, now, workers) or _subtask_reason(job, now, workers)


def _combine_reason(job, now, workers):
    if job.lease_expires_at is not None and job.lease_expires_at >= now:
        return f"combine step running (attempt {job.combine_attempts})"
    stale_after = job.status_changed_at + timedelta(seconds=settings.LEPTON_FINALIZE_STALE_SECONDS)
    if job.lease_expires_at is not None or stale_after < now:
        return "combine step waiting to be sent again by the reconciler"
    return _consumer_reason(job, now, workers) or f"combine step waiting for a worker on queue {job.queue}"


def _consumer_reason(job, now, workers):
    """No live worker consumes the job's queue: none at all, or only quarantined ones."""
    workers = [w for w in workers if job.queue in w.queues]
    if any(job.queue in w.consuming for w in workers):
        return ""
    quarantined = [w for w in workers if w.quarantined_until and w.quarantined_until > now]
    if quarantined:
        names = ", ".join(w.hostname for w in quarantined)
        until = max(w.quarantined_until for w in quarantined)
        return f"no live consumer for queue {job.queue}: {names} quarantined until {until:%H:%M:%S} UTC"
    return f"no live worker consumes queue {job.queue}"


def _subtask_reason(job, now, workers):
    if getattr(job, "running", 0):
        return ""
    counts = _waiting_counts(job)
    if counts.get(Subtask.Status.RUNNING):
        return ""
    if counts.get(Subtask.Status.QUEUED):
        return _slots_reason(job, workers)
    if counts.get(Subtask.Status.RETRY_WAIT):
        retry = (
            Subtask.objects.filter(job=job, status=Subtask.Status.RETRY_WAIT)
            .order_by("retry_at")
            .values("index", "retry_at")
            .first()
        )
        return f"waiting for retry of subtask {retry['index']} due at {retry['retry_at']:%H:%M:%S} UTC"
    return ""


def _waiting_counts(job):
    """{status: subtasks} for running, queued and retry-waiting ones: as counted on the
    job (count_waiting, or jobs.submit for a job just created), else counted now."""
    if not hasattr(job, "queued"):
        count_waiting(job)
    return {
        Subtask.Status.RUNNING: job.running, Subtask.Status.QUEUED: job.queued,
        Subtask.Status.RETRY_WAIT: job.retry_waiting,
    }


def _slots_reason(job, workers):
    """Queued but nothing of it running: are the queue's worker slots all busy?"""
    consumers = [w for w in workers if job.queue in w.consuming]
    slots = sum(w.concurrency for w in consumers)
    if slots and hot_sql.running_on_queue(job.queue) >= slots:
        try:
            ahead = broker_depths().get(job.queue, 0)
        except Exception:
            return f"all {slots} worker slots on queue {job.queue} are busy"
        return f"all {slots} worker slots on queue {job.queue} are busy, {ahead} messages waiting"
    return ""

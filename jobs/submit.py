"""Submitting a job: validate, then write the job and all its subtasks in one transaction.

Nothing is half-created: a request that fails validation writes nothing, and messages
for the first window of subtasks are sent only after the rows commit (invariant 2).
"""

import time
from itertools import islice

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from jobs import registry, row_models, subtask_rows
from jobs.admission import admit
from jobs.clock import db_now
from jobs.dispatch import finalize_message, publish_on_commit, subtask_messages
from jobs.encoding import EncodedJSON, encoded
from jobs.load import job_window
from jobs.models import Job, JobParams, Priority
from jobs.params_summary import is_large, summarize
from jobs.restrictions import may_submit
from jobs.routing import queue_for


class SubmissionError(Exception):
    """Invalid submission: `errors` maps a field to its reasons, as the API reports them."""

    def __init__(self, errors, status=400):
        super().__init__(errors)
        self.errors = errors
        self.status = status


def submit_job(owner, type_name, params, priority=Priority.NORMAL, idempotency_key=None, *, queue=None, admission=True):
    """Create a job; returns (job, created). A repeated idempotency key returns the first job.

    Raises SubmissionError for invalid input or a restricted type the owner may not run
    (status 403), and admission.AdmissionRefused over a limit.
    `queue` overrides the type's routing and `admission=False` skips admission control and
    allows internal job types: both for the platform's own canary (monitoring.canary),
    never for users' requests.
    """
    job_type = _job_type(type_name, platform=not admission)
    if not may_submit(owner, job_type.name):
        raise SubmissionError(
            {"type": [f"Job type {type_name!r} is restricted to operators; you may not submit it."]},
            status=403,
        )
    if priority not in Priority.values:
        raise SubmissionError({"priority": [f"Must be one of {', '.join(Priority.values)}."]})
    cleaned = _clean_params(job_type, params)
    if idempotency_key:
        existing = Job.objects.filter(owner=owner, idempotency_key=idempotency_key).first()
        if existing is not None:
            return _replay(existing, type_name, cleaned, priority), False
    payloads = _split(job_type, cleaned)
    summary = summarize(cleaned)  # outside the transaction: SQLite's write lock is shared
    try:
        job = _create(owner, job_type, cleaned, summary, priority, idempotency_key, payloads, queue, admission)
    except IntegrityError:
        # A concurrent request with the same idempotency key won the insert.
        existing = Job.objects.filter(owner=owner, idempotency_key=idempotency_key).first()
        if not idempotency_key or existing is None:
            raise
        return _replay(existing, type_name, cleaned, priority), False
    if is_large(summary):
        _retire_connection()
    return job, True


def _retire_connection():
    """Close this thread's SQLite connection when its request or task ends, not at
    CONN_MAX_AGE: each statement it caches keeps a copy of the values last bound to it,
    so the params insert would hold these params, megabytes, as long as the connection
    lives, in every web thread that took a large job. Django's end-of-request check
    (close_old_connections) closes a connection past `close_at`."""
    if connection.vendor == "sqlite":
        connection.close_at = time.monotonic()


def _job_type(type_name, platform):
    """The registered type; an internal one only for the platform's own submissions."""
    try:
        job_type = registry.get(type_name)
        if job_type.internal and not platform:
            raise KeyError(type_name)
        return job_type
    except (KeyError, TypeError):
        known = ", ".join(jt.name for jt in registry.all_types())
        raise SubmissionError({"type": [f"Unknown job type {type_name!r}; known types: {known}."]}) from None


def _clean_params(job_type, params):
    if not isinstance(params, dict):
        raise SubmissionError({"params": ["Must be an object of parameter names to values."]})
    form = job_type.params_form(data=params)
    if not form.is_valid():
        errors = {
            ("non_field_errors" if field == "__all__" else field): messages
            for field, messages in form.errors.items()
        }
        raise SubmissionError({"params": errors})
    unknown = sorted(set(params) - set(form.fields))
    if unknown:
        raise SubmissionError({"params": {name: ["Unknown parameter."] for name in unknown}})
    return form.cleaned_data


def _split(job_type, cleaned):
    limit = settings.LEPTON_MAX_SUBTASKS_PER_JOB
    # Take one more than the limit from the generator: enough to refuse, never the whole job.
    payloads = list(islice(job_type.split(cleaned), limit + 1))
    if len(payloads) > limit:
        raise SubmissionError(
            {
                "params": {
                    "non_field_errors": [
                        f"This job would have more than {limit} subtasks, the most one job may have "
                        "(LEPTON_MAX_SUBTASKS_PER_JOB); use larger chunks."
                    ]
                }
            }
        )
    return payloads


def _replay(existing, type_name, cleaned, priority):
    if (existing.type, existing.params, existing.priority) != (type_name, cleaned, priority):
        raise SubmissionError(
            {"idempotency_key": ["Already used for a different job; use a new key for a new job."]},
            status=409,
        )
    return existing


def _create(owner, job_type, cleaned, summary, priority, idempotency_key, payloads, queue=None, admission=True):
    if queue is not None and queue not in settings.LEPTON_QUEUES:
        raise SubmissionError({"queue": [f"Unknown queue {queue!r}; queues: {', '.join(settings.LEPTON_QUEUES)}."]})
    queue = queue or queue_for(job_type)
    window = job_window()
    # Rendered before the transaction: its write lock is held only for the inserts.
    now = db_now()
    params = encoded(cleaned)
    # Payloads are looked at only when the params hold a long list of numbers (they hold
    # its slices): a job of 100,000 small payloads pays nothing for it.
    stored = [encoded(payload) for payload in payloads] if isinstance(params, EncodedJSON) else payloads
    rows = subtask_rows.render(stored, window, now)
    with transaction.atomic():
        if admission:
            admit(owner, len(payloads))
        job = row_models.insert(
            Job(
                owner=owner,
                type=job_type.name,
                priority=priority,
                queue=queue,
                idempotency_key=idempotency_key or None,
                total=len(payloads),
                max_failures=job_type.max_failures,
                window=window,
                status=Job.Status.QUEUED if payloads else Job.Status.FINALIZING,
            )
        )
        job.input = row_models.insert(JobParams(job=job, params=params, summary=summary))
        job.input.params = cleaned
        # The first window goes straight to `queued`, one subtask per message; the rest
        # wait as `pending` and are dispatched as earlier messages finish (invariant 7).
        first = subtask_rows.insert(job.pk, rows, window)
        if payloads:
            publish_on_commit(subtask_messages(first, job_type, queue, priority))
        else:
            publish_on_commit([finalize_message(job.pk, queue)])
    # What this job's first reader would count (jobs.waiting reads it instead of counting):
    # nothing started, the first window queued, as of the database time the rows carry.
    job.running, job.queued, job.retry_waiting = 0, len(first), 0
    job.counted_at = now
    return job

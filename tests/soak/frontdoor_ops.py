"""What the front door process does with each request (see tests/soak/frontdoor.py)."""

from django.contrib.auth import get_user_model
from django.db import close_old_connections
from django.utils import timezone

from jobs.admission import AdmissionRefused
from jobs.control import cancel_job, retry_job
from jobs.submit import SubmissionError, submit_job


def handle(request):
    close_old_connections()
    try:
        return OPERATIONS[request["op"]](request)
    except Exception as exc:  # reported to the soak, which counts it; the process goes on
        return {"error": f"{type(exc).__name__}: {exc}"}


def _submit(request):
    owner = get_user_model().objects.get(username=request["user"])
    try:
        job, _ = submit_job(owner, request["type"], request["params"], request["priority"])
    except SubmissionError as exc:
        return {"rejected": exc.errors}
    except AdmissionRefused as exc:
        return {"refused": exc.message}
    return {"id": job.pk}


def _cancel(request):
    canceled = cancel_job(request["job"])
    # Taken after the cancel committed: a subtask stamped later than this surely started
    # after the cancel (one stamped just before it may have been claimed while the
    # cancel waited for the write lock, so the job's own finished_at would be too early).
    return {"canceled": canceled, "at": timezone.now().isoformat()}


def _retry(request):
    return {"retried": retry_job(request["job"])}


OPERATIONS = {"submit": _submit, "cancel": _cancel, "retry": _retry}

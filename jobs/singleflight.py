"""Single-flight periodic tasks: one pass at a time across every process and host.

Beat may send a tick while the last one still runs, and any number of workers may consume
the control queue (a plain `celery worker` without -Q consumes every queue). A pass first
takes the task's `Housekeeping` lease with one conditional UPDATE; a tick that finds it
held is skipped, not queued. Lease times come from the database's clock, so hosts with
skewed clocks agree on who holds it (invariant 11). A pass that dies leaves its lease to
lapse after `lease_seconds`.
"""

import logging
import os
import socket
import time
import traceback
from datetime import timedelta

from django.db import IntegrityError
from django.db.models import Q
from django.db.models.functions import Now

from jobs.models import Housekeeping

log = logging.getLogger(__name__)

#: What a skipped pass returns.
SKIPPED = "skipped"
MAX_ERROR_CHARS = 2000


def holder_name():
    return f"{socket.gethostname()}:{os.getpid()}"


def run_exclusively(name, task, lease_seconds):
    """Run `task()` if no other pass of `name` holds the lease; its result, or SKIPPED.

    The outcome is stamped on the row (last_succeeded_at or last_failed_at with the
    error); an exception from `task` is re-raised after the lease is released.
    """
    holder = holder_name()
    if not _acquire(name, holder, lease_seconds):
        log.debug("event=housekeeping_skipped task=%s reason=lease_held", name)
        return SKIPPED
    started = time.perf_counter()
    try:
        result = task()
    except Exception as exc:
        _release(name, holder, last_failed_at=Now(), last_error=_describe(exc))
        raise
    _release(name, holder, last_succeeded_at=Now(), last_error="", last_duration=time.perf_counter() - started)
    return result


def _acquire(name, holder, lease_seconds):
    free = Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=Now())
    changes = {
        "holder": holder,
        "lease_expires_at": Now() + timedelta(seconds=lease_seconds),
        "last_started_at": Now(),
    }
    if Housekeeping.objects.filter(free, name=name).update(**changes):
        return True
    if Housekeeping.objects.filter(name=name).exists():
        return False
    try:
        Housekeeping.objects.create(name=name)
    except IntegrityError:
        pass  # another process created it first; the UPDATE below decides who runs
    return bool(Housekeeping.objects.filter(free, name=name).update(**changes))


def _release(name, holder, **outcome):
    Housekeeping.objects.filter(name=name, holder=holder).update(holder="", lease_expires_at=None, **outcome)


def _describe(exc):
    return "".join(traceback.format_exception_only(exc)).strip()[:MAX_ERROR_CHARS]

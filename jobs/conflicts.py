"""Running a short transaction again when PostgreSQL aborts it to break a deadlock.

A cancel locks the job's row, then its unstarted subtasks in one UPDATE; a worker's claim
locks a batch of those same subtasks in another, in whatever order each plan visits them.
Two multi-row UPDATEs over overlapping rows can wait on each other, and PostgreSQL then
aborts one of them (SQLSTATE 40P01). That is expected under concurrency, not a fault:
the operations wrapped here are idempotent (each re-checks the job's status in its own
statements), so the aborted one simply runs again. Workers need no wrapper: a claim or a
record that loses is handed back and retried by its task.
"""

import functools
import logging
import time

from django.db import OperationalError, connection

log = logging.getLogger(__name__)

#: Deadlock detected, serialization failure.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
ATTEMPTS = 4


def is_retryable(exc):
    return getattr(exc.__cause__, "sqlstate", None) in RETRYABLE_SQLSTATES


def retried_on_conflict(operation):
    """Run `operation` again (up to ATTEMPTS times, briefly backing off) when the database
    aborted its transaction to break a deadlock. Inside an outer transaction the abort
    belongs to the caller, so the call is made once."""

    @functools.wraps(operation)
    def run(*args, **kwargs):
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return operation(*args, **kwargs)
            except OperationalError as exc:
                if connection.in_atomic_block or not is_retryable(exc) or attempt == ATTEMPTS:
                    raise
                log.warning(
                    "event=transaction_conflict_retried operation=%s attempt=%d sqlstate=%s",
                    operation.__name__, attempt, exc.__cause__.sqlstate,
                )
                time.sleep(0.05 * attempt)

    return run

"""Conditional UPDATEs that waited for another transaction's lock on their row.

PostgreSQL re-checks an UPDATE's own WHERE on the row version it waited for, but not the
conditions inside an `id IN (SELECT ...)` subquery, which is how Django writes an UPDATE
filtered through a join. The cluster rehearsal (tests/cluster) found the consequence: a
success held up by a lock outlived its lease; the reconciler's requeue waited for its
row, then reopened the succeeded subtask, and it was counted twice. Subtask.of_jobs_in
keeps the row's own conditions out of the subquery. Each test here holds a row lock in
one transaction while the engine's UPDATE waits for it in another thread, then commits.
"""

import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.db.models import F

from jobs.dispatch import requeue_running
from jobs.execution import _claim
from jobs.models import Job, Subtask

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("row locks and their re-check are PostgreSQL's; SQLite runs one writer at a time")


def while_locked(subtask, change, waiter):
    """Lock the row with `change` in an open transaction, start `waiter` in a thread, let
    it block on the lock, commit; `waiter`'s return value."""
    outcome = {}

    def wait():
        try:
            outcome["value"] = waiter()
        finally:
            connections.close_all()

    with transaction.atomic():
        Subtask.objects.filter(pk=subtask.pk).update(**change)
        thread = threading.Thread(target=wait)
        thread.start()
        time.sleep(1.0)  # the waiter's UPDATE is now blocked on this row
        assert thread.is_alive(), "the waiter did not wait for the lock"
    thread.join(30)
    return outcome["value"]


def test_a_requeue_that_waited_for_a_completion_leaves_the_succeeded_row_alone(postgresql, job):
    subtask = job.subtasks.get(index=0)
    Subtask.objects.filter(pk=subtask.pk).update(status="running", attempt=1, worker="w1@host")
    row = {"id": subtask.pk, "attempt": 1}

    requeued = while_locked(subtask, {"status": "succeeded"}, lambda: requeue_running(row, job.created_at))

    subtask.refresh_from_db()
    assert requeued is None
    assert (subtask.status, subtask.attempt) == ("succeeded", 1)


def test_a_claim_that_waited_for_another_claim_of_the_same_attempt_takes_nothing(postgresql, job):
    subtask = job.subtasks.get(index=0)
    Subtask.objects.filter(pk=subtask.pk).update(status="queued", attempt=1)

    claims = while_locked(
        subtask, {"status": "running", "worker": "first@host", "tries": F("tries") + 1},
        lambda: _claim([(subtask.pk, 1)], "second@host"),
    )

    subtask.refresh_from_db()
    assert claims == []
    assert (subtask.status, subtask.worker, subtask.tries) == ("running", "first@host", 1)

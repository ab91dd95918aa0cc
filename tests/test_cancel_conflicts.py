"""A cancel that PostgreSQL picks as a deadlock's victim runs again and succeeds (issue 9).

The fuzz run found it: a cancel (job row, then its unstarted subtasks) and a worker's
claim (a batch of those subtasks) can wait on each other. Here the cycle is made
deterministic: another transaction holds one queued subtask, the cancel blocks on it
while holding the job's row, then the other transaction asks for the job's row. The
cancel's session detects the deadlock first (the other one's deadlock_timeout is raised)
and is aborted; `cancel_job` must run it again rather than answer 500.
"""

import threading
import time

import pytest
from django.db import connection, connections

from jobs.control import cancel_job
from jobs.models import Job, Subtask
from tests.monitoring import factories

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks and deadlock detection are PostgreSQL's; SQLite serialises writers"
    ),
]


def wait_for_a_backend_blocked_on(table, timeout=10):
    deadline = time.monotonic() + timeout
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            # Inside a transaction pg_stat_activity is a snapshot until cleared.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
                [f'UPDATE "{table}"%'],
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError(f"no backend blocked on {table}")


def test_a_cancel_aborted_to_break_a_deadlock_runs_again_and_cancels_the_job():
    job = factories.job(type="primes", total=3)
    for index in range(3):
        factories.subtask(job, index, Subtask.Status.QUEUED)
    held = Subtask.objects.get(job=job, index=1).pk
    outcome = {}

    def holder():
        """Locks one queued subtask, then (once the cancel waits on it) the job's row."""
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("BEGIN")
                cursor.execute("SET LOCAL deadlock_timeout = '30s'")
                cursor.execute("SELECT id FROM jobs_subtask WHERE id = %s FOR UPDATE", [held])
                outcome["holding"] = True
                wait_for_a_backend_blocked_on("jobs_subtask")
                cursor.execute("UPDATE jobs_job SET failed = failed WHERE id = %s", [job.pk])
                cursor.execute("COMMIT")
        except BaseException as exc:
            outcome["holder_error"] = exc
        finally:
            connections["default"].close()

    thread = threading.Thread(target=holder)
    thread.start()
    while "holding" not in outcome and "holder_error" not in outcome:
        time.sleep(0.01)

    canceled = cancel_job(job.pk)
    thread.join(timeout=60)

    assert "holder_error" not in outcome, outcome
    assert canceled is True
    assert Job.objects.get(pk=job.pk).status == Job.Status.CANCELED
    assert set(Subtask.objects.filter(job=job).values_list("status", flat=True)) == {Subtask.Status.CANCELED}

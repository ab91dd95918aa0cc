"""A worker's PostgreSQL sessions end a transaction left idle (jobs.sessions), so a host
cut off mid-transaction does not hold the job's row for hours. The cluster rehearsal
(tests/cluster) cuts a host there; these check that every worker process's session has the
limit, and that other processes (web, CLI, this one) do not."""

import pytest
from django.db import connection

from jobs.submit import submit_job
from tests.integration.conftest import wait_for_job

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("idle_in_transaction_session_timeout is PostgreSQL's; SQLite has no sessions to end")


def test_a_workers_sessions_end_transactions_left_idle(postgresql, platform, owner):
    job, _ = submit_job(owner, "session_settings", {"subtasks": 4})
    job = wait_for_job(job.pk)

    assert job.status == "succeeded", job.error
    assert job.result == ["5s"]


def test_other_processes_sessions_leave_idle_transactions_alone(postgresql):
    with connection.cursor() as cursor:
        cursor.execute("SHOW idle_in_transaction_session_timeout")
        assert cursor.fetchone()[0] == "0"

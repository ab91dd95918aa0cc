"""A worker's or web process's PostgreSQL sessions end a transaction left idle
(jobs.sessions), so a host cut off mid-transaction does not hold the job's row, or its
user's admission lock, for hours. The cluster rehearsal (tests/cluster) cuts a host there;
these check that every worker process's session has the limit, that a process serving
the WSGI application has it, and that other processes (the CLI, this one) do not."""

import subprocess
import sys

import pytest
from django.db import connection

from jobs.submit import submit_job
from tests.integration.conftest import wait_for_job
from tests.processes import ROOT

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


def test_a_web_process_sessions_end_transactions_left_idle(postgresql, platform_env):
    # What gunicorn loads (lepton/run.py): the WSGI application's module.
    script = (
        "import lepton.wsgi\n"
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('SHOW idle_in_transaction_session_timeout')\n"
        "    print(cursor.fetchone()[0])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=platform_env, cwd=ROOT, capture_output=True, text=True, timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "5s"


def test_other_processes_sessions_leave_idle_transactions_alone(postgresql):
    with connection.cursor() as cursor:
        cursor.execute("SHOW idle_in_transaction_session_timeout")
        assert cursor.fetchone()[0] == "0"

"""Invariant 11, one clock: a worker whose host clock is 30 s off keeps its leases.

The worker runs under libfaketime. Leases, heartbeats and retry times are stamped by the
database's clock in the statement itself, so its skew does not matter. This needs a
database server: SQLite's clock is the clock of the process running the statement (one
host, so one clock in production), and a faked process clock fakes it too.
"""

import os
from pathlib import Path

import pytest
from django.db import connection

from jobs.models import RecoveryEvent
from jobs.submit import submit_job
from tests.integration.conftest import wait_for_job

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FAKETIME_LIB = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
SKEWED_QUEUE = "skewed"


@pytest.fixture
def needs_a_database_server():
    if connection.vendor == "sqlite":
        pytest.skip("SQLite's clock is each process's own; run with LEPTON_DATABASE_URL=postgres://...")
    if not FAKETIME_LIB.exists():
        pytest.skip("libfaketime is not installed")


@pytest.mark.parametrize("skew", ["-30", "+30"])
def test_a_worker_with_a_skewed_clock_keeps_its_leases(needs_a_database_server, platform, owner, settings, skew):
    queues = [*settings.LEPTON_QUEUES, SKEWED_QUEUE]
    settings.LEPTON_QUEUES = queues
    settings.LEPTON_ROUTES = {"waits": SKEWED_QUEUE}
    worker = platform.add_worker(
        f"skewed{skew[0] == '-' and 'behind' or 'ahead'}", queues=[SKEWED_QUEUE], concurrency=2,
        LD_PRELOAD=str(FAKETIME_LIB), FAKETIME=skew, FAKETIME_DONT_FAKE_MONOTONIC="1",
        LEPTON_QUEUES=",".join(queues),
    )
    try:
        # Each subtask outlives a reconcile tick many times over, and a lease stamped by
        # the skewed clock (-30 s + 12 s lease) would look lapsed at once.
        job, _ = submit_job(owner, "waits", {"subtasks": 4, "sleep_ms": 4000})
        job = wait_for_job(job.pk, timeout=120)
    finally:
        worker.stop()
        platform.services.remove(worker)

    assert job.status == "succeeded", job.error
    assert not RecoveryEvent.objects.filter(job=job, kind="lease_lapsed").exists()
    assert set(job.subtasks.values_list("attempt", flat=True)) == {1}
    assert set(job.subtasks.values_list("worker", flat=True)) == {worker.name + "@lepton-test"}
    assert os.environ.get("FAKETIME") is None, "only the worker's clock was skewed"

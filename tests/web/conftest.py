"""Fixtures for the web pages: logged-in test clients and jobs in a chosen state.

Like the API tests, these run in a transaction that never commits, so no message is
ever sent: no broker needed. A job's end state is written straight onto its row.
"""

import pytest
from django.test import Client
from django.utils import timezone

from jobs.models import Job
from jobs.submit import submit_job


@pytest.fixture
def web(owner):
    client = Client()
    client.force_login(owner)
    return client


@pytest.fixture
def stranger_web(stranger):
    client = Client()
    client.force_login(stranger)
    return client


@pytest.fixture
def make_job(owner):
    def make_job(type_name="diagnostic", params=None, user=owner, **final):
        job, _ = submit_job(user, type_name, params or {"subtasks": 2})
        if final:
            now = timezone.now()
            Job.objects.filter(pk=job.pk).update(started_at=now, finished_at=now, **final)
            job.refresh_from_db()
        return job

    return make_job


@pytest.fixture
def wordcount_job(make_job):
    """A succeeded wordcount job with its result."""
    return make_job(
        "wordcount",
        {"texts": ["the cat", "the dog"]},
        status=Job.Status.SUCCEEDED,
        done=1,
        result={"total_words": 4, "unique_words": 3, "top": [["the", 2], ["cat", 1], ["dog", 1]]},
    )

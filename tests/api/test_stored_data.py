"""No response is a 500 because of what is stored (issue 9.2).

Rows written before input was checked at the door (or by another front door) may hold
text UTF-8 cannot encode; every view of them still answers, with the bad characters
escaped.
"""

import json

import pytest
from django.db import connection

from jobs.models import Job, JobParams, Subtask

pytestmark = pytest.mark.skipif(
    connection.vendor == "postgresql",
    reason="PostgreSQL refuses a lone surrogate in a JSON column: there the poison cannot be stored at all",
)


def poison(job):
    """Store what a lone surrogate left behind before the fix, in every JSON column.

    (SQLite cannot store one in a text column at all, so `error` stays clean.)
    """
    JobParams.objects.filter(pk=job.pk).update(params={"texts": ["a \ud800 b"]}, summary={"texts": {"items": 1, "chars": 5, "first": ["a \ud800 b"]}})
    Job.objects.filter(pk=job.pk).update(status="succeeded", result={"top": [["\udfff", 1]]})
    Subtask.objects.filter(job=job).update(payload={"texts": ["a \ud800 b"]}, result={"\ud800": 1})


def test_the_list_detail_subtasks_and_params_of_a_poisoned_job_all_answer(api, job):
    poison(job)

    for path in ("/api/jobs/", f"/api/jobs/{job.pk}/", f"/api/jobs/{job.pk}/subtasks/", f"/api/jobs/{job.pk}/params/"):
        response = api.get(path)
        assert response.status_code == 200, path
        assert response.content.isascii()
        json.loads(response.content)


def test_the_bad_characters_come_back_escaped(api, job):
    poison(job)

    body = api.get(f"/api/jobs/{job.pk}/").json()

    assert body["params"] == {"texts": ["a \ud800 b"]}
    assert body["result"] == {"top": [["\udfff", 1]]}


def test_the_owner_can_delete_a_poisoned_job(api, job):
    poison(job)

    assert api.delete(f"/api/jobs/{job.pk}/").status_code == 204
    assert api.get("/api/jobs/").json()["count"] == 0

"""Admin stays cheap with 100,000 subtasks: a fixed number of queries per page whatever
the row count, and the time of each page printed (run with -s to see the figures)."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jobs.models import Job, RecoveryEvent, Subtask
from jobs.submit import submit_job

pytestmark = pytest.mark.django_db

SUBTASKS = 100_000
#: Queries a page may make: session, user, permissions, the rows, the capped count...
#: a handful, never one per row.
MAX_QUERIES = 14

@pytest.fixture
def big_job(owner):
    job, _ = submit_job(owner, "diagnostic", {"subtasks": 1})
    Subtask.objects.filter(job=job).delete()
    Subtask.objects.bulk_create(
        (Subtask(job=job, index=i, payload={"i": i}, status=Subtask.Status.SUCCEEDED if i % 7 else Subtask.Status.FAILED)
         for i in range(SUBTASKS)),
        batch_size=5000,
    )
    Job.objects.filter(pk=job.pk).update(total=SUBTASKS, status=Job.Status.FAILED)
    RecoveryEvent.objects.bulk_create(
        RecoveryEvent(kind=RecoveryEvent.Kind.LEASE_LAPSED, job=job, subtask_index=i, attempt=1, worker="w@h")
        for i in range(2000)
    )
    return job

def test_admin_pages_make_a_fixed_number_of_queries_at_100000_subtasks(admin_client, big_job):
    pages = {
        "job list": "/admin/jobs/job/",
        "job page": f"/admin/jobs/job/{big_job.pk}/change/",
        "subtasks of the job": f"/admin/jobs/subtask/?job__id__exact={big_job.pk}",
        "failed subtasks of the job": f"/admin/jobs/subtask/?job__id__exact={big_job.pk}&status__exact=failed",
        "all subtasks, last page": "/admin/jobs/subtask/?p=100",
        "subtask search by job": f"/admin/jobs/subtask/?q={big_job.pk}",
        "recovery events": "/admin/jobs/recoveryevent/",
        "delete confirmation": f"/admin/jobs/job/{big_job.pk}/delete/",
    }
    admin_client.get("/admin/")  # warm up templates and the session
    figures = {}
    for name, url in pages.items():
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = admin_client.get(url)
            figures[name] = (time.perf_counter() - started, len(queries))

        assert response.status_code == 200, name
        assert len(queries) <= MAX_QUERIES, (name, [q["sql"] for q in queries])
    print(f"\nadmin pages with {SUBTASKS:,} subtasks:")
    for name, (seconds, count) in sorted(figures.items(), key=lambda item: -item[1][0]):
        print(f"  {seconds * 1000:7.1f} ms  {count:2d} queries  {name}")

def test_subtask_search_survives_a_word_where_a_job_id_goes(admin_client):
    assert admin_client.get("/admin/jobs/subtask/", {"q": "abc"}).status_code == 200

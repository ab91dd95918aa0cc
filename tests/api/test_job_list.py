"""GET /api/jobs/: the caller's own jobs, newest first, paginated, filterable."""

from datetime import timedelta

from jobs.control import cancel_job
from jobs.models import Job


def listed_ids(response):
    assert response.status_code == 200
    return [job["id"] for job in response.json()["results"]]


def test_it_lists_only_the_callers_jobs(api, make_job, stranger):
    mine = [make_job(), make_job()]
    make_job(user=stranger)

    response = api.get("/api/jobs/")

    assert response.json()["count"] == 2
    assert sorted(listed_ids(response)) == sorted(job.pk for job in mine)


def test_each_listed_job_is_its_detail_with_the_params_as_a_summary_only(api, job):
    listed = api.get("/api/jobs/").json()["results"]
    detail = api.get(f"/api/jobs/{job.pk}/").json()

    # The detail alone carries the params and why the job waits (read from the rows).
    del detail["params"], detail["waiting_reason"]
    assert listed == [detail]
    assert listed[0]["params_summary"] == {
        "subtasks": 5, "sleep_ms": 0, "fail_rate": 0.0, "fail_mode": "transient", "seed": 0,
    }


def test_it_lists_the_newest_job_first(api, make_job):
    oldest, newest, middle = make_job(), make_job(), make_job()
    now = newest.created_at
    for job, age in ((oldest, 2), (middle, 1), (newest, 0)):
        Job.objects.filter(pk=job.pk).update(created_at=now - timedelta(minutes=age))

    assert listed_ids(api.get("/api/jobs/")) == [newest.pk, middle.pk, oldest.pk]


def test_it_filters_by_status(api, make_job):
    canceled, queued = make_job(), make_job()
    cancel_job(canceled.pk)

    assert listed_ids(api.get("/api/jobs/?status=canceled")) == [canceled.pk]
    assert listed_ids(api.get("/api/jobs/?status=queued")) == [queued.pk]
    assert listed_ids(api.get("/api/jobs/?status=succeeded")) == []


def test_it_filters_by_type(api, make_job):
    primes = make_job("primes", {"start": 0, "end": 10})
    make_job("diagnostic")

    assert listed_ids(api.get("/api/jobs/?type=primes")) == [primes.pk]
    assert listed_ids(api.get("/api/jobs/?type=stats")) == []


def test_it_rejects_an_unknown_status_filter_naming_the_parameter(api, job):
    response = api.get("/api/jobs/?status=done")

    assert response.status_code == 400
    assert response.json() == {
        "status": ["Must be one of queued, running, finalizing, succeeded, failed, canceled."]
    }


def test_it_pages_fifty_jobs_at_a_time(settings, api, make_job):
    settings.LEPTON_MAX_ACTIVE_JOBS_PER_USER = 55
    ids = [make_job().pk for _ in range(55)]

    first = api.get("/api/jobs/")
    second = api.get(first.json()["next"])

    assert first.json()["count"] == 55
    assert first.json()["previous"] is None
    assert "page=2" in first.json()["next"]
    assert listed_ids(first) + listed_ids(second) == ids[::-1]
    assert second.json()["next"] is None


def test_an_unknown_type_filter_is_a_400_like_other_bad_filters(api, make_job):
    make_job()

    response = api.get("/api/jobs/?type=nosuch")

    assert response.status_code == 400
    [reason] = response.json()["type"]
    assert reason.startswith("Unknown job type 'nosuch'; known types: ")
    # The suite's own job types (tests/integration/jobtypes.py) may be registered too.
    assert {"diagnostic", "primes", "stats", "wordcount"} <= set(reason.rstrip(".").split(": ")[1].split(", "))


def test_a_type_no_longer_installed_still_filters_the_jobs_run_as_it(api, make_job):
    retired = make_job()
    Job.objects.filter(pk=retired.pk).update(type="retired")

    assert listed_ids(api.get("/api/jobs/?type=retired")) == [retired.pk]

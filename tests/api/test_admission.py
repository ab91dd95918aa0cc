"""Admission control: over a limit, 429 with Retry-After, the limit named, nothing created."""

import pytest
from rest_framework.throttling import UserRateThrottle

from jobs.models import Job


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.LEPTON_MAX_ACTIVE_JOBS_PER_USER = 2
    settings.LEPTON_MAX_OUTSTANDING_SUBTASKS_PER_USER = 10
    settings.LEPTON_MAX_OUTSTANDING_SUBTASKS = 15
    settings.LEPTON_ADMISSION_RETRY_AFTER = 7


def assert_refused(response, limit, value):
    assert response.status_code == 429
    assert response["Retry-After"] == "7"
    body = response.json()
    assert (body["limit"], body["value"]) == (limit, value)
    assert str(value) in body["detail"]


def test_it_refuses_a_job_over_the_active_jobs_limit(submit, creates_nothing):
    for _ in range(2):
        assert submit("diagnostic", {"subtasks": 1}).status_code == 201
    with creates_nothing():
        assert_refused(submit("diagnostic", {"subtasks": 1}), "LEPTON_MAX_ACTIVE_JOBS_PER_USER", 2)


def test_finished_jobs_do_not_count_as_active(submit, owner):
    for _ in range(2):
        assert submit("diagnostic", {"subtasks": 1}).status_code == 201
    Job.objects.filter(owner=owner).update(status="succeeded")
    assert submit("diagnostic", {"subtasks": 1}).status_code == 201


def test_it_refuses_a_job_over_the_users_outstanding_subtasks(submit, creates_nothing):
    assert submit("diagnostic", {"subtasks": 8}).status_code == 201
    with creates_nothing():
        assert_refused(submit("diagnostic", {"subtasks": 3}), "LEPTON_MAX_OUTSTANDING_SUBTASKS_PER_USER", 10)
    assert submit("diagnostic", {"subtasks": 2}).status_code == 201


def test_it_refuses_a_job_over_the_global_outstanding_subtasks(submit, stranger_api, creates_nothing):
    assert submit("diagnostic", {"subtasks": 9}, client=stranger_api).status_code == 201
    with creates_nothing():
        assert_refused(submit("diagnostic", {"subtasks": 7}), "LEPTON_MAX_OUTSTANDING_SUBTASKS", 15)


def test_an_idempotent_replay_is_not_refused(submit):
    first = submit("diagnostic", {"subtasks": 1}, idempotency_key="k1")
    submit("diagnostic", {"subtasks": 1})
    replay = submit("diagnostic", {"subtasks": 1}, idempotency_key="k1")
    assert replay.status_code == 200 and replay.json()["id"] == first.json()["id"]


def test_the_cli_says_which_limit_refused_it(owner, make_job):
    from django.core.management import CommandError, call_command

    make_job(), make_job()
    with pytest.raises(CommandError, match="LEPTON_MAX_ACTIVE_JOBS_PER_USER"):
        call_command("submit", "diagnostic", "--param", "subtasks=1", "--user", "owner")


def test_api_requests_over_the_rate_are_throttled_with_retry_after(api, monkeypatch):
    # DRF binds the rates when the throttle class is defined, so set them there.
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/minute"})
    statuses = [api.get("/api/jobs/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert int(api.get("/api/jobs/")["Retry-After"]) > 0

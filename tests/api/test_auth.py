"""Authentication: a token or a session; without one, every endpoint is a 401."""

import pytest
from django.utils.crypto import get_random_string
from rest_framework.test import APIClient

from jobs.models import Job, Subtask

SUBMISSION = {"type": "diagnostic", "params": {"subtasks": 1}}
ENDPOINTS = [
    ("get", "/api/jobs/"),
    ("post", "/api/jobs/"),
    ("get", "/api/jobs/{id}/"),
    ("get", "/api/jobs/{id}/subtasks/"),
    ("post", "/api/jobs/{id}/cancel/"),
    ("post", "/api/jobs/{id}/retry/"),
    ("get", "/api/job-types/"),
]


def database_state():
    return list(Job.objects.values_list("id", "status")), Subtask.objects.count()


def call(client, method, url, job):
    if method == "post":
        return client.post(url.format(id=job.pk), SUBMISSION, format="json")
    return client.get(url.format(id=job.pk))


@pytest.mark.parametrize("method, url", ENDPOINTS)
@pytest.mark.parametrize(
    "headers, detail",
    [
        pytest.param({}, "Authentication credentials were not provided.", id="no-token"),
        pytest.param({"HTTP_AUTHORIZATION": "Token not-a-real-token"}, "Invalid token.", id="bad-token"),
    ],
)
def test_every_endpoint_refuses_a_request_without_valid_credentials(job, method, url, headers, detail):
    before = database_state()

    response = call(APIClient(**headers), method, url, job)

    assert response.status_code == 401
    assert response.json() == {"detail": detail}
    assert response["WWW-Authenticate"] == "Token"
    assert database_state() == before


def test_a_token_authenticates_as_its_user(api, job):
    response = api.get("/api/jobs/")

    assert response.status_code == 200
    assert [listed["id"] for listed in response.json()["results"]] == [job.pk]


def test_a_logged_in_session_can_read_and_submit(owner, job):
    client = APIClient()
    client.force_login(owner)

    listed = client.get("/api/jobs/")
    submitted = client.post("/api/jobs/", SUBMISSION, format="json")

    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["results"]] == [job.pk]
    assert submitted.status_code == 201
    assert Job.objects.get(pk=submitted.json()["id"]).owner == owner


def test_a_session_post_without_a_csrf_token_is_refused(owner, job):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner)
    before = database_state()

    submitted = client.post("/api/jobs/", SUBMISSION, format="json")
    canceled = client.post(f"/api/jobs/{job.pk}/cancel/")

    assert (submitted.status_code, canceled.status_code) == (403, 403)
    assert "CSRF" in submitted.json()["detail"]
    assert database_state() == before


def test_a_session_post_with_the_csrf_token_is_accepted(owner):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner)
    secret = get_random_string(32)
    client.cookies["csrftoken"] = secret

    response = client.post("/api/jobs/", SUBMISSION, format="json", HTTP_X_CSRFTOKEN=secret)

    assert response.status_code == 201
    assert Job.objects.get().owner == owner

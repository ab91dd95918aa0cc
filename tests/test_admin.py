"""Django admin: staff only, and the operator actions on jobs and workers."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from jobs.models import Job, Worker
from jobs.submit import submit_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    staff = get_user_model().objects.create_user("operator", password="operator-password-1", is_staff=True, is_superuser=True)
    client.force_login(staff)
    return client


def test_a_user_who_is_not_staff_is_sent_to_the_login_page(client, owner):
    client.force_login(owner)
    response = client.get("/admin/jobs/job/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_staff_see_every_users_jobs(staff_client, owner, stranger):
    for user in (owner, stranger):
        submit_job(user, "diagnostic", {"subtasks": 1})
    response = staff_client.get("/admin/jobs/job/")
    assert response.status_code == 200
    assert b"owner" in response.content and b"stranger" in response.content


def test_the_cancel_action_cancels_active_jobs(staff_client, owner):
    job, _ = submit_job(owner, "diagnostic", {"subtasks": 2})
    response = staff_client.post(
        "/admin/jobs/job/", {"action": "cancel_selected", "_selected_action": [job.pk]}, follow=True
    )
    assert b"Canceled 1 job(s)." in response.content
    assert Job.objects.get(pk=job.pk).status == "canceled"


def test_jobs_cannot_be_added_or_edited_by_hand(staff_client, owner):
    job, _ = submit_job(owner, "diagnostic", {"subtasks": 1})
    assert staff_client.get("/admin/jobs/job/add/").status_code == 403
    staff_client.post(f"/admin/jobs/job/{job.pk}/change/", {"status": "succeeded"})
    assert Job.objects.get(pk=job.pk).status == "queued"


def test_the_release_action_ends_a_quarantine(staff_client):
    now = timezone.now()
    worker = Worker.objects.create(
        hostname="w@h", queues=["default"], started_at=now, last_seen_at=now,
        quarantined_until=now + timedelta(minutes=5), quarantine_reason="P_n=0.9",
    )
    staff_client.post("/admin/jobs/worker/", {"action": "release_selected", "_selected_action": [worker.pk]})
    assert Worker.objects.get(pk=worker.pk).quarantined_until <= timezone.now()

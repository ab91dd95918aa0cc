"""Issue 9.7: every admin action checks its own permission, and every operator action
leaves an audit row (Django admin's LogEntry, shown as the read-only "Audit log").

The attack: a staff user with view permissions only POSTs each action directly.
"""

from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from jobs.models import Job, Worker
from jobs.submit import submit_job

pytestmark = pytest.mark.django_db


def staff_with(name, *codenames):
    user = get_user_model().objects.create_user(name, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="jobs", codename__in=codenames))
    return user


VIEW_ONLY = ("view_job", "view_subtask", "view_worker", "view_recoveryevent")


@pytest.fixture
def viewer_client(client):
    client.force_login(staff_with("viewer", *VIEW_ONLY))
    return client


@pytest.fixture
def operator_client(client):
    client.force_login(staff_with("operator", *VIEW_ONLY, "cancel_job", "retry_job", "release_worker"))
    return client


def failed_job(owner):
    job, _ = submit_job(owner, "diagnostic", {"subtasks": 1})
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED, finished_at=timezone.now())
    return job


def quarantined_worker():
    now = timezone.now()
    return Worker.objects.create(
        hostname="w@h", queues=["default"], started_at=now, last_seen_at=now,
        quarantined_until=now + timedelta(minutes=5), quarantine_reason="P_n=0.9",
    )


def test_it_does_not_offer_a_view_only_user_any_action(viewer_client, owner):
    submit_job(owner, "diagnostic", {"subtasks": 1})
    quarantined_worker()

    jobs_page = viewer_client.get("/admin/jobs/job/").content.decode()
    workers_page = viewer_client.get("/admin/jobs/worker/").content.decode()

    for action in ("cancel_selected", "retry_selected", "delete_selected"):
        assert action not in jobs_page
    assert "release_selected" not in workers_page


def test_it_refuses_the_cancel_action_to_a_view_only_user(viewer_client, owner):
    job, _ = submit_job(owner, "diagnostic", {"subtasks": 2})

    viewer_client.post("/admin/jobs/job/", {"action": "cancel_selected", "_selected_action": [job.pk]})

    assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED
    assert not LogEntry.objects.exists()


def test_it_refuses_the_retry_action_to_a_view_only_user(viewer_client, owner):
    job = failed_job(owner)

    viewer_client.post("/admin/jobs/job/", {"action": "retry_selected", "_selected_action": [job.pk]})

    assert Job.objects.get(pk=job.pk).status == Job.Status.FAILED


def test_it_refuses_the_release_action_to_a_view_only_user(viewer_client):
    worker = quarantined_worker()

    viewer_client.post("/admin/jobs/worker/", {"action": "release_selected", "_selected_action": [worker.pk]})

    assert Worker.objects.get(pk=worker.pk).quarantined_until > timezone.now()


def test_it_refuses_the_job_page_buttons_to_a_view_only_user(viewer_client, owner):
    active, _ = submit_job(owner, "diagnostic", {"subtasks": 1})
    failed = failed_job(owner)

    page = viewer_client.get(f"/admin/jobs/job/{active.pk}/change/").content.decode()
    cancel = viewer_client.post(f"/admin/jobs/job/{active.pk}/cancel/")
    retry = viewer_client.post(f"/admin/jobs/job/{failed.pk}/retry/")

    assert "Cancel job" not in page
    assert (cancel.status_code, retry.status_code) == (403, 403)
    assert Job.objects.get(pk=active.pk).status == Job.Status.QUEUED
    assert Job.objects.get(pk=failed.pk).status == Job.Status.FAILED


def test_it_lets_an_operator_cancel_and_records_who_did_it(operator_client, owner):
    job, _ = submit_job(owner, "diagnostic", {"subtasks": 2})

    operator_client.post("/admin/jobs/job/", {"action": "cancel_selected", "_selected_action": [job.pk]})

    assert Job.objects.get(pk=job.pk).status == Job.Status.CANCELED
    entry = LogEntry.objects.get()
    assert (entry.user.username, entry.action_flag, entry.object_id) == (
        "operator", CHANGE, str(job.pk),
    )
    assert entry.get_change_message() == "Canceled"


def test_it_lets_an_operator_retry_and_records_it(operator_client, owner):
    job = failed_job(owner)

    operator_client.post("/admin/jobs/job/", {"action": "retry_selected", "_selected_action": [job.pk]})

    assert Job.objects.get(pk=job.pk).status != Job.Status.FAILED
    assert LogEntry.objects.get().get_change_message() == "Retried failed subtasks"


def test_it_lets_an_operator_release_a_worker_and_records_it(operator_client):
    worker = quarantined_worker()

    operator_client.post("/admin/jobs/worker/", {"action": "release_selected", "_selected_action": [worker.pk]})

    assert Worker.objects.get(pk=worker.pk).quarantined_until <= timezone.now()
    entry = LogEntry.objects.get()
    assert (entry.object_repr, entry.get_change_message()) == ("w@h", "Released from quarantine")


def test_it_does_not_record_an_action_that_changed_nothing(operator_client, owner):
    job, _ = submit_job(owner, "diagnostic", {"subtasks": 1})
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED)

    operator_client.post("/admin/jobs/job/", {"action": "cancel_selected", "_selected_action": [job.pk]})

    assert not LogEntry.objects.exists()


def test_the_audit_log_is_read_only_and_shows_who_did_what(operator_client, owner, admin_client):
    job, _ = submit_job(owner, "diagnostic", {"subtasks": 1})
    operator_client.post(f"/admin/jobs/job/{job.pk}/cancel/")
    entry = LogEntry.objects.get()

    page = admin_client.get("/admin/admin/logentry/").content.decode()

    assert "Audit log" in page and "Canceled" in page and f"job {job.pk}" in page
    assert admin_client.get("/admin/admin/logentry/add/").status_code == 403
    admin_client.post(f"/admin/admin/logentry/{entry.pk}/delete/", {"post": "yes"})
    assert LogEntry.objects.filter(pk=entry.pk).exists()

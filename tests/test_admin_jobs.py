"""Issue 11, job admin: the list, the job page's buttons, params as JSON with a download,
subtasks through a filtered list, deletion of finished jobs only."""

import json

import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from jobs.admin.records import JSON_PREVIEW_CHARS
from jobs.models import Job, JobParams, Subtask
from jobs.submit import submit_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    user = get_user_model().objects.create_user("operator", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="jobs",
            codename__in=["view_job", "view_subtask", "cancel_job", "retry_job", "delete_job"],
        )
    )
    client.force_login(user)
    return client


def test_the_list_shows_owner_status_progress_and_duration(operator, owner):
    job, _ = submit_job(owner, "diagnostic", {"subtasks": 4})
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, done=3, failed=1, started_at=timezone.now())

    page = operator.get("/admin/jobs/job/").content.decode()

    assert "owner" in page and "running" in page
    assert "3 done · 1 failed / 4" in page
    assert 'class="field-duration"' in page


def test_it_finds_a_job_by_id_and_by_owner_and_survives_a_word_where_an_id_goes(operator, owner, stranger):
    mine, _ = submit_job(owner, "diagnostic", {"subtasks": 1})
    theirs, _ = submit_job(stranger, "diagnostic", {"subtasks": 1})

    by_id = operator.get("/admin/jobs/job/", {"q": str(theirs.pk)}).content.decode()
    by_owner = operator.get("/admin/jobs/job/", {"q": "own"}).content.decode()
    by_word = operator.get("/admin/jobs/job/", {"q": "not-a-number"})

    assert f"/admin/jobs/job/{theirs.pk}/change/" in by_id and f"/admin/jobs/job/{mine.pk}/change/" not in by_id
    assert f"/admin/jobs/job/{mine.pk}/change/" in by_owner and f"/admin/jobs/job/{theirs.pk}/change/" not in by_owner
    assert by_word.status_code == 200


def test_the_job_page_has_a_cancel_button_that_posts_and_is_audited(operator, owner):
    job, _ = submit_job(owner, "diagnostic", {"subtasks": 2})

    page = operator.get(f"/admin/jobs/job/{job.pk}/change/").content.decode()
    response = operator.post(f"/admin/jobs/job/{job.pk}/cancel/")

    assert f'action="/admin/jobs/job/{job.pk}/cancel/"' in page and "Cancel job" in page
    assert "Retry failed subtasks" not in page
    assert response.status_code == 302
    assert Job.objects.get(pk=job.pk).status == Job.Status.CANCELED
    assert LogEntry.objects.get().get_change_message() == "Canceled"


def test_the_buttons_answer_only_post(operator, owner):
    job, _ = submit_job(owner, "diagnostic", {"subtasks": 1})

    assert operator.get(f"/admin/jobs/job/{job.pk}/cancel/").status_code == 405
    assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED


def test_the_buttons_need_a_csrf_token(owner):
    from django.test import Client

    user = get_user_model().objects.create_superuser("root", password="x-unused-password-1")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    job, _ = submit_job(owner, "diagnostic", {"subtasks": 1})

    assert client.post(f"/admin/jobs/job/{job.pk}/cancel/").status_code == 403
    assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED


def test_a_failed_job_page_has_a_retry_button(operator, owner):
    job, _ = submit_job(owner, "diagnostic", {"subtasks": 1})
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED)

    page = operator.get(f"/admin/jobs/job/{job.pk}/change/").content.decode()
    operator.post(f"/admin/jobs/job/{job.pk}/retry/")

    assert "Retry failed subtasks" in page and "Cancel job" not in page
    assert Job.objects.get(pk=job.pk).status != Job.Status.FAILED


def test_the_job_page_links_to_its_subtasks_filtered_by_job(operator, owner):
    job, _ = submit_job(owner, "diagnostic", {"subtasks": 3})
    other, _ = submit_job(owner, "diagnostic", {"subtasks": 2})

    page = operator.get(f"/admin/jobs/job/{job.pk}/change/").content.decode()
    subtasks = operator.get("/admin/jobs/subtask/", {"job__id__exact": job.pk}).content.decode()

    assert f"/admin/jobs/subtask/?job__id__exact={job.pk}" in page
    assert "3 subtasks" in subtasks
    assert f'href="/admin/jobs/job/{other.pk}/change/"' not in subtasks


def test_params_are_formatted_json_truncated_when_large_with_a_download(operator, owner):
    job, _ = submit_job(owner, "wordcount", {"texts": ["tiny"]})
    big = {"texts": ["word " * 1000] * 10}
    JobParams.objects.filter(job=job).update(params=big)

    page = operator.get(f"/admin/jobs/job/{job.pk}/change/").content.decode()
    download = operator.get(f"/admin/jobs/job/{job.pk}/params.json")

    assert "truncated" in page
    assert len(page) < JSON_PREVIEW_CHARS + 30_000
    assert download["Content-Disposition"] == f'attachment; filename="job-{job.pk}-params.json"'
    assert json.loads(download.content) == big


def test_small_params_are_indented_json(operator, owner):
    job, _ = submit_job(owner, "wordcount", {"texts": ["a b"]})

    page = operator.get(f"/admin/jobs/job/{job.pk}/change/").content.decode()

    assert "\n  &quot;texts&quot;: [\n    &quot;a b&quot;\n  ]" in page


def test_read_only_records_have_no_save_or_delete_button(admin_client, owner):
    job, _ = submit_job(owner, "diagnostic", {"subtasks": 1})
    subtask = Subtask.objects.filter(job=job).first()

    job_page = admin_client.get(f"/admin/jobs/job/{job.pk}/change/").content.decode()
    subtask_page = admin_client.get(f"/admin/jobs/subtask/{subtask.pk}/change/").content.decode()

    for page in (job_page, subtask_page):
        assert 'name="_save"' not in page and "deletelink" not in page
    admin_client.post(f"/admin/jobs/subtask/{subtask.pk}/delete/", {"post": "yes"})
    assert Subtask.objects.filter(pk=subtask.pk).exists()


def test_only_finished_jobs_can_be_deleted(operator, owner):
    active, _ = submit_job(owner, "diagnostic", {"subtasks": 2})
    finished, _ = submit_job(owner, "diagnostic", {"subtasks": 2})
    Job.objects.filter(pk=finished.pk).update(status=Job.Status.SUCCEEDED)

    assert operator.post(f"/admin/jobs/job/{active.pk}/delete/", {"post": "yes"}).status_code == 403
    finished_page = operator.get(f"/admin/jobs/job/{finished.pk}/change/").content.decode()
    operator.post(f"/admin/jobs/job/{finished.pk}/delete/", {"post": "yes"})

    assert "deletelink" in finished_page
    assert Job.objects.filter(pk=active.pk).exists()
    assert not Job.objects.filter(pk=finished.pk).exists()
    assert not Subtask.objects.filter(job_id=finished.pk).exists()
    assert LogEntry.objects.get().action_flag == DELETION


def test_bulk_delete_refuses_while_a_selected_job_is_active(operator, owner):
    active, _ = submit_job(owner, "diagnostic", {"subtasks": 2})
    finished, _ = submit_job(owner, "diagnostic", {"subtasks": 2})
    Job.objects.filter(pk=finished.pk).update(status=Job.Status.SUCCEEDED)

    page = operator.post(
        "/admin/jobs/job/", {"action": "delete_selected", "_selected_action": [active.pk, finished.pk], "post": "yes"}
    ).content.decode()

    assert "still active, cancel it first" in page
    assert Job.objects.count() == 2


def test_the_job_page_says_why_an_active_job_waits(operator, owner):
    job, _ = submit_job(owner, "diagnostic", {"subtasks": 2})  # no worker has ever reported

    page = operator.get(f"/admin/jobs/job/{job.pk}/change/").content.decode()

    assert "why it waits" in page.lower()
    assert "no live worker consumes queue default" in page

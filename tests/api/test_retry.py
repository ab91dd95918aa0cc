"""POST /api/jobs/{id}/retry/: a failed job runs its failed and unrun subtasks again."""

from jobs.control import end_job
from jobs.models import Job, RecoveryEvent


def fail(job, subtask_index=0):
    job.subtasks.filter(index=subtask_index).update(status="failed", attempt=1, tries=4, error="boom")
    Job.objects.filter(pk=job.pk).update(failed=1)
    end_job(job.pk, Job.Status.FAILED, "subtask 0 failed: boom")


def test_it_reopens_a_failed_job_and_requeues_its_failed_and_canceled_subtasks(api, make_job, subtask_states, settings):
    settings.LEPTON_JOB_WINDOW = 2
    job = make_job(params={"subtasks": 5})
    job.subtasks.filter(index=1).update(status="succeeded", attempt=1)
    Job.objects.filter(pk=job.pk).update(done=1)
    fail(job)

    response = api.post(f"/api/jobs/{job.pk}/retry/")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["error"], body["finished_at"]) == ("running", "", None)
    assert body["progress"] == {"total": 5, "done": 1, "failed": 0, "running": 0}
    assert subtask_states(job) == [
        (0, "queued", 2), (1, "succeeded", 1), (2, "queued", 1), (3, "pending", 0), (4, "pending", 0),
    ]
    assert set(job.subtasks.exclude(status="succeeded").values_list("tries", flat=True)) == {0}
    assert RecoveryEvent.objects.filter(kind="job_retried", job=job).exists()


def test_it_refuses_a_job_that_has_not_failed(api, job):
    response = api.post(f"/api/jobs/{job.pk}/retry/")
    assert response.status_code == 409
    assert "only a failed job" in response.json()["status"][0]
    assert Job.objects.get(pk=job.pk).status == "queued"


def test_another_users_job_is_not_found(stranger_api, job):
    fail(job)
    response = stranger_api.post(f"/api/jobs/{job.pk}/retry/")
    assert response.status_code == 404
    assert Job.objects.get(pk=job.pk).status == "failed"


def test_a_retry_over_an_admission_limit_is_429_with_retry_after_and_changes_nothing(
    api, make_job, settings, subtask_states
):
    job = make_job(params={"subtasks": 5})
    fail(job)
    before = subtask_states(job)
    settings.LEPTON_MAX_OUTSTANDING_SUBTASKS_PER_USER = 4
    settings.LEPTON_ADMISSION_RETRY_AFTER = 7

    response = api.post(f"/api/jobs/{job.pk}/retry/")

    assert response.status_code == 429
    assert response["Retry-After"] == "7"
    assert response.json()["limit"] == "LEPTON_MAX_OUTSTANDING_SUBTASKS_PER_USER"
    assert Job.objects.get(pk=job.pk).status == "failed"
    assert subtask_states(job) == before
    assert not RecoveryEvent.objects.filter(kind="job_retried", job=job).exists()


def test_a_retry_counts_as_an_active_job_for_admission(api, make_job, settings):
    job = make_job(params={"subtasks": 5})
    fail(job)
    make_job()
    settings.LEPTON_MAX_ACTIVE_JOBS_PER_USER = 1

    response = api.post(f"/api/jobs/{job.pk}/retry/")

    assert response.status_code == 429
    assert response.json()["limit"] == "LEPTON_MAX_ACTIVE_JOBS_PER_USER"
    assert Job.objects.get(pk=job.pk).status == "failed"


def test_a_retry_of_a_job_that_has_not_failed_says_so_in_plain_words(api, job):
    Job.objects.filter(pk=job.pk).update(status="succeeded")

    response = api.post(f"/api/jobs/{job.pk}/retry/")

    assert response.json() == {"status": ["The job has succeeded; only a failed job can be retried."]}

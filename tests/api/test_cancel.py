"""POST /api/jobs/{id}/cancel/: an owner ends an active job; unstarted subtasks never run."""

import pytest

from jobs.models import Job, Subtask


@pytest.fixture
def started_job(settings, make_job):
    """Six subtasks: 0 succeeded, 1 running, 2 retry_wait, 3 queued, 4 and 5 pending."""
    settings.LEPTON_JOB_WINDOW = 4
    job = make_job(params={"subtasks": 6})
    Job.objects.filter(pk=job.pk).update(status="running", done=1)
    for index, status in ((0, "succeeded"), (1, "running"), (2, "retry_wait")):
        Subtask.objects.filter(job=job, index=index).update(status=status)
    return job


def test_canceling_ends_the_job_and_its_unstarted_subtasks(api, started_job, subtask_states):
    response = api.post(f"/api/jobs/{started_job.pk}/cancel/")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"]) == (started_job.pk, "canceled")
    assert body["finished_at"] is not None
    assert body["progress"] == {"total": 6, "done": 1, "failed": 0, "running": 1}
    started_job.refresh_from_db()
    assert (started_job.status, started_job.finished_at is not None) == ("canceled", True)
    assert [status for _, status, _ in subtask_states(started_job)] == [
        "succeeded", "running", "canceled", "canceled", "canceled", "canceled",
    ]
    assert not Subtask.objects.filter(status="canceled", finished_at__isnull=True).exists()


def test_canceling_a_canceled_job_again_is_a_conflict(api, job):
    api.post(f"/api/jobs/{job.pk}/cancel/")
    finished_at = Job.objects.get(pk=job.pk).finished_at

    response = api.post(f"/api/jobs/{job.pk}/cancel/")

    assert response.status_code == 409
    assert response.json() == {
        "status": ["The job was canceled; only an active job can be canceled."]
    }
    assert Job.objects.get(pk=job.pk).finished_at == finished_at


def test_a_finished_job_cannot_be_canceled(api, job):
    Job.objects.filter(pk=job.pk).update(status="succeeded")
    Subtask.objects.filter(job=job).update(status="succeeded")

    response = api.post(f"/api/jobs/{job.pk}/cancel/")

    assert response.status_code == 409
    assert response.json()["status"][0].startswith("The job has succeeded;")
    assert Job.objects.get(pk=job.pk).status == "succeeded"
    assert set(Subtask.objects.values_list("status", flat=True)) == {"succeeded"}


def test_a_stranger_cannot_cancel_someone_elses_job(stranger_api, job, subtask_states):
    before = subtask_states(job)

    response = stranger_api.post(f"/api/jobs/{job.pk}/cancel/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    job.refresh_from_db()
    assert (job.status, job.finished_at) == ("queued", None)
    assert subtask_states(job) == before


def test_canceling_a_job_that_does_not_exist_is_404(api):
    response = api.post("/api/jobs/999999/cancel/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}

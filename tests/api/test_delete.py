"""DELETE /api/jobs/{id}/: users remove their own finished jobs (issue 9.2)."""

import pytest

from jobs.control import cancel_job, end_job
from jobs.models import Job, JobParams, RecoveryEvent, Subtask


@pytest.mark.parametrize("final", ["succeeded", "failed", "canceled"])
def test_it_deletes_a_finished_job_with_its_params_subtasks_and_events(api, job, final):
    end_job(job.pk, final)
    RecoveryEvent.objects.create(kind="job_retried", job=job)

    response = api.delete(f"/api/jobs/{job.pk}/")

    assert response.status_code == 204
    assert not Job.objects.filter(pk=job.pk).exists()
    assert not JobParams.objects.filter(pk=job.pk).exists()
    assert not Subtask.objects.filter(job_id=job.pk).exists()
    assert not RecoveryEvent.objects.filter(job_id=job.pk).exists()
    assert api.get(f"/api/jobs/{job.pk}/").status_code == 404


@pytest.mark.parametrize("active", ["queued", "running", "finalizing"])
def test_an_active_job_is_a_conflict_and_stays(api, job, active):
    Job.objects.filter(pk=job.pk).update(status=active)

    response = api.delete(f"/api/jobs/{job.pk}/")

    assert response.status_code == 409
    assert response.json() == {
        "status": [f"The job is {active}; only a finished job can be deleted; cancel it first."]
    }
    assert Job.objects.filter(pk=job.pk, status=active).exists()
    assert Subtask.objects.filter(job_id=job.pk).count() == 5


def test_a_stranger_gets_404_and_the_job_stays(stranger_api, job):
    cancel_job(job.pk)

    assert stranger_api.delete(f"/api/jobs/{job.pk}/").status_code == 404
    assert Job.objects.filter(pk=job.pk).exists()


def test_it_needs_authentication(client, job):
    cancel_job(job.pk)

    assert client.delete(f"/api/jobs/{job.pk}/").status_code == 401
    assert Job.objects.filter(pk=job.pk).exists()

"""GET /api/jobs/{id}/ and /api/jobs/{id}/subtasks/: a user sees only their own jobs."""

import pytest

from jobs.models import Job, Subtask

NOT_FOUND = {"detail": "Not found."}
SUBTASK_KEYS = {
    "index", "status", "attempt", "worker", "payload", "result", "error",
    "queued_at", "started_at", "finished_at",
}


def test_the_owner_gets_their_job_as_it_was_submitted(submit, api):
    created = submit("primes", {"start": 0, "end": 10})

    response = api.get(f"/api/jobs/{created.json()['id']}/")

    assert response.status_code == 200
    assert response.json() == created.json()


def test_progress_counts_done_failed_and_running_subtasks(api, job):
    Job.objects.filter(pk=job.pk).update(status="running", done=2, failed=1)
    Subtask.objects.filter(job=job, index__in=[3, 4]).update(status="running", attempt=1)

    response = api.get(f"/api/jobs/{job.pk}/")

    assert response.status_code == 200
    assert response.json()["status"] == "running"
    assert response.json()["progress"] == {"total": 5, "done": 2, "failed": 1, "running": 2}


def test_it_shows_a_finished_jobs_result(api, job):
    Job.objects.filter(pk=job.pk).update(status="succeeded", done=5, result={"subtasks": 5, "index_sum": 10})

    body = api.get(f"/api/jobs/{job.pk}/").json()

    assert body["status"] == "succeeded"
    assert body["result"] == {"subtasks": 5, "index_sum": 10}


def test_it_returns_404_for_another_users_job(stranger_api, job):
    response = stranger_api.get(f"/api/jobs/{job.pk}/")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


@pytest.mark.parametrize("job_id", ["999999", "99999999999999999999999", "abc"])
@pytest.mark.parametrize("suffix", ["", "subtasks/"])
def test_it_returns_the_same_404_for_a_job_that_does_not_exist(api, job, job_id, suffix):
    response = api.get(f"/api/jobs/{job_id}/{suffix}")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_it_lists_a_jobs_subtasks_in_index_order(settings, submit, api):
    settings.LEPTON_JOB_WINDOW = 2
    job_id = submit("primes", {"start": 0, "end": 25, "chunk_size": 10}).json()["id"]

    response = api.get(f"/api/jobs/{job_id}/subtasks/")

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (3, None, None)
    assert all(set(subtask) == SUBTASK_KEYS for subtask in body["results"])
    assert [(s["index"], s["status"], s["attempt"], s["payload"]) for s in body["results"]] == [
        (0, "queued", 1, {"lo": 0, "hi": 10}),
        (1, "queued", 1, {"lo": 10, "hi": 20}),
        (2, "pending", 0, {"lo": 20, "hi": 25}),
    ]
    first, last = body["results"][0], body["results"][2]
    assert (first["worker"], first["result"], first["error"]) == ("", None, "")
    assert first["queued_at"] is not None and last["queued_at"] is None


def test_it_shows_a_subtasks_worker_and_result(api, job):
    Subtask.objects.filter(job=job, index=0).update(status="succeeded", worker="w1@host", result=0)

    first = api.get(f"/api/jobs/{job.pk}/subtasks/").json()["results"][0]

    assert (first["status"], first["worker"], first["result"]) == ("succeeded", "w1@host", 0)


def test_it_pages_the_subtasks(make_job, api):
    job = make_job(params={"subtasks": 55})

    first = api.get(f"/api/jobs/{job.pk}/subtasks/").json()
    second = api.get(first["next"]).json()

    assert first["count"] == 55
    assert [s["index"] for s in first["results"]] == list(range(50))
    assert "page=2" in first["next"]
    assert [s["index"] for s in second["results"]] == list(range(50, 55))
    assert second["next"] is None


def test_it_returns_404_for_another_users_subtasks(stranger_api, job):
    response = stranger_api.get(f"/api/jobs/{job.pk}/subtasks/")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND

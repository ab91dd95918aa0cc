"""GET /api/jobs/{id}/ says why a job waits (invariant 9); the list stays cheap."""

from datetime import timedelta

from django.utils import timezone

from jobs.models import Job, Subtask, Worker


def live_worker(hostname, queues, consuming=None, **fields):
    now = timezone.now()
    return Worker.objects.create(
        hostname=hostname, queues=queues, consuming=queues if consuming is None else consuming,
        concurrency=2, started_at=now, last_seen_at=now, **fields,
    )


def test_a_job_with_no_live_consumer_says_so(api, job):
    body = api.get(f"/api/jobs/{job.pk}/").json()

    assert body["waiting_reason"] == f"no live worker consumes queue {job.queue}"


def test_a_job_whose_only_worker_is_quarantined_says_so(api, job):
    until = timezone.now() + timedelta(minutes=5)
    live_worker("w1@host", [job.queue], consuming=[], quarantined_until=until)

    reason = api.get(f"/api/jobs/{job.pk}/").json()["waiting_reason"]

    assert reason.startswith(f"no live consumer for queue {job.queue}: w1@host quarantined until")


def test_a_job_waiting_for_a_retry_says_which_and_when(api, job):
    live_worker("w1@host", [job.queue])
    due = timezone.now() + timedelta(seconds=30)
    Job.objects.filter(pk=job.pk).update(status="running")
    Subtask.objects.filter(job=job).update(status="succeeded")
    Subtask.objects.filter(job=job, index=3).update(status="retry_wait", retry_at=due)

    reason = api.get(f"/api/jobs/{job.pk}/").json()["waiting_reason"]

    assert reason == f"waiting for retry of subtask 3 due at {due:%H:%M:%S} UTC"


def reason_with_running_on_its_queue(api, job, make_job, running):
    """The job's reason while `running` subtasks of another job run on its queue's 2 slots."""
    live_worker("w1@host", [job.queue])
    other = make_job(params={"subtasks": 3})
    leased = timezone.now() + timedelta(seconds=30)
    Subtask.objects.filter(job=other, index__lt=running).update(status="running", lease_expires_at=leased)
    return api.get(f"/api/jobs/{job.pk}/").json()["waiting_reason"]


def test_a_job_queued_while_every_worker_slot_of_its_queue_is_busy_says_so(api, job, make_job):
    reason = reason_with_running_on_its_queue(api, job, make_job, running=2)

    assert reason.startswith(f"all 2 worker slots on queue {job.queue} are busy")


def test_a_job_queued_while_a_slot_is_free_has_no_reason(api, job, make_job):
    assert reason_with_running_on_its_queue(api, job, make_job, running=1) == ""


def test_a_job_of_a_type_not_installed_here_says_so(api, job):
    Job.objects.filter(pk=job.pk).update(type="removed_in_a_deploy")

    reason = api.get(f"/api/jobs/{job.pk}/").json()["waiting_reason"]

    assert reason == "job type 'removed_in_a_deploy' is not installed on this host"


def test_a_running_job_and_a_final_job_have_no_reason(api, job):
    live_worker("w1@host", [job.queue])
    Job.objects.filter(pk=job.pk).update(status="running")
    Subtask.objects.filter(job=job, index=0).update(status="running")
    assert api.get(f"/api/jobs/{job.pk}/").json()["waiting_reason"] == ""

    Job.objects.filter(pk=job.pk).update(status="succeeded")
    assert api.get(f"/api/jobs/{job.pk}/").json()["waiting_reason"] == ""


def test_the_list_does_not_compute_reasons(api, job):
    assert "waiting_reason" not in api.get("/api/jobs/").json()["results"][0]

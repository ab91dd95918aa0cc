"""The combine step run by the worker that records a job's last subtasks (finalize.combine_here),
in-process against the test database and a real Redis: still once, under the job's lease,
and sent as a finalize_job message whenever running it there could not keep its limit."""

import pytest
from celery.exceptions import SoftTimeLimitExceeded

from jobs import execution, finalize, registry
from jobs.execution import run
from jobs.models import Job, Subtask
from tests.integration.conftest import sent

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


class NoRenewer:
    """Stands in for the lease-renewer thread, which would write from another connection."""

    def hold(self, *args):
        pass

    release = hold_job = release_job = hold


@pytest.fixture
def last_subtask(job, monkeypatch):
    """The job's subtask 0, queued at attempt 1, with subtasks 1 and 2 already succeeded."""
    monkeypatch.setattr(execution, "renewer", NoRenewer())
    monkeypatch.setattr(finalize, "renewer", NoRenewer())
    for index in (1, 2):
        Subtask.objects.filter(job=job, index=index).update(status="succeeded", attempt=1, result=index)
    Job.objects.filter(pk=job.pk).update(done=2)
    return job.subtasks.get(index=0)


def test_the_worker_recording_the_last_subtask_combines_and_sends_no_message(job, parked, last_subtask):
    assert run([[last_subtask.pk, 1]], "w1@host") == 1

    job.refresh_from_db()
    assert (job.status, job.result) == ("succeeded", {"subtasks": 3, "index_sum": 3})
    assert (job.combine_attempts, job.lease_expires_at) == (1, None)
    assert sent(parked) == []


def test_a_type_with_its_own_combine_limit_gets_a_finalize_message(
    job, parked, last_subtask, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(registry.get("diagnostic"), "combine_time_limit", 30.0)

    with django_capture_on_commit_callbacks(execute=True):
        run([[last_subtask.pk, 1]], "w1@host")

    job.refresh_from_db()
    assert job.status == "finalizing"
    assert [name for name, _ in sent(parked)] == ["jobs.tasks.finalize_job"]


def test_a_combine_stopped_by_the_message_time_limit_is_handed_to_a_finalize_message(
    job, parked, last_subtask, monkeypatch
):
    def stopped(partials, params):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(registry.get("diagnostic"), "combine", stopped)

    run([[last_subtask.pk, 1]], "w1@host")

    job.refresh_from_db()
    assert job.status == "finalizing", "not failed: the step gets its whole limit in its own message"
    assert (job.combine_attempts, job.lease_expires_at) == (0, None)
    assert [name for name, _ in sent(parked)] == ["jobs.tasks.finalize_job"]


def test_a_combine_another_process_holds_is_left_to_it(job, parked, last_subtask, monkeypatch):
    taken = []
    original = finalize._take_lease

    def held_elsewhere(job_id):
        taken.append(original(job_id))  # the other process takes it first
        return 0

    monkeypatch.setattr(finalize, "_take_lease", held_elsewhere)

    run([[last_subtask.pk, 1]], "w1@host")

    job.refresh_from_db()
    assert taken == [1] and job.status == "finalizing" and job.lease_expires_at is not None
    assert sent(parked) == []

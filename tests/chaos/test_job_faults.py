"""Faults of one job's own making or of its submitter's: the rest of the platform is unharmed.

g. a poison subtask that always raises (and, with it, a failed job's subtasks are not
run again), h. a crash between committing a job and publishing its messages.
"""

import re

import pytest
from django.contrib.auth import get_user_model

from jobs import registry, submit
from jobs.models import Job, RecoveryEvent, Subtask
from tests.chaos.conftest import (
    CHAOS_USER,
    assert_counted_once,
    seconds_to_finish,
    wait_for_final,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

#: What a subtask of a finished job may be: nothing of it still runs or waits to run.
SETTLED = (Subtask.Status.SUCCEEDED, Subtask.Status.FAILED, Subtask.Status.CANCELED)


def settled_subtasks(job_id):
    """The job's subtask rows once every one is settled, else None."""
    rows = list(Subtask.objects.filter(job_id=job_id))
    return rows if all(row.status in SETTLED for row in rows) else None


def test_g_a_poison_subtask_fails_its_job_cleanly_and_harms_no_other_job(start_platform, chaos):
    platform = start_platform()
    platform.add_worker()
    poison_id = platform.submit("diagnostic", subtasks=2, fail_rate=1.0, fail_mode="transient")
    healthy_id = platform.submit("diagnostic", subtasks=10, sleep_ms=50)

    healthy = wait_for_final(healthy_id)
    chaos.scenario("g. poison subtask beside a healthy job").record(healthy)
    assert_counted_once(healthy, 10)

    poison = wait_for_final(poison_id)
    assert poison.status == Job.Status.FAILED
    assert re.fullmatch(
        r"subtask \d failed: TransientError: diagnostic transient fault in subtask \d, attempt \d+ \(at .+\)",
        poison.error,
    ), poison.error
    assert poison.result is None
    rows = wait_until(lambda: settled_subtasks(poison_id), 30, f"subtasks of failed job {poison_id} still active")
    failed = [row for row in rows if row.status == Subtask.Status.FAILED]
    assert failed, "no subtask recorded its failure"
    tries = registry.get("diagnostic").max_retries + 1
    assert [(row.tries, row.error.startswith("TransientError")) for row in failed] == [(tries, True)] * len(failed)
    poison.refresh_from_db()
    assert (poison.done, poison.failed) == (0, len(failed))


def test_g_a_failed_job_starts_no_new_attempt_of_its_subtasks(start_platform):
    platform = start_platform()
    n = 2
    platform.add_worker(concurrency=n)
    # Subtask 0 fails the job while subtask 1 runs on; subtask 1 then fails transiently.
    job_id = platform.submit("chaos_fail_fast", subtasks=n, sleep_ms=1000)
    job = wait_for_final(job_id)
    assert job.status == Job.Status.FAILED
    assert job.error.startswith("subtask 0 failed: PermanentError: chaos: subtask 0 fails for good"), job.error
    rows = wait_until(lambda: settled_subtasks(job_id), 60, f"subtasks of failed job {job_id} still active")
    rerun = [(row.index, row.tries) for row in rows if row.started_at and row.started_at > job.finished_at]
    assert rerun == [], f"(subtask, tries) of job {job_id} started again after the job failed"


def test_h_a_job_whose_messages_were_never_sent_is_dispatched_by_the_reconciler(start_platform, chaos):
    platform = start_platform(LEPTON_REDISPATCH_SECONDS="2")
    platform.add_worker()
    owner = get_user_model().objects.get(username=CHAOS_USER)
    scenario = chaos.scenario("h. crash between commit and publish")
    n = 6
    for _ in range(chaos.reps):
        with pytest.MonkeyPatch.context() as patch:
            # As if the submitting process died right after the commit: no message is sent.
            patch.setattr(submit, "publish_on_commit", lambda messages: None)
            job, _ = submit.submit_job(owner, "diagnostic", {"subtasks": n})
        job = wait_for_final(job.pk)
        scenario.record(job, seconds_to_finish(job, since=job.created_at))
        assert_counted_once(job, n)
        redispatched = RecoveryEvent.objects.filter(job_id=job.pk, kind="redispatched")
        assert set(redispatched.values_list("subtask_index", flat=True)) == set(range(n))

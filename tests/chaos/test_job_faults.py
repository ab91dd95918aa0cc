"""Faults of one job's own making or of its submitter's: the rest of the platform is unharmed.

g. a poison subtask that always raises, h. a crash between committing a job and
publishing its messages.
"""

import re

import pytest
from django.contrib.auth import get_user_model

from jobs import registry, submit
from jobs.models import Job, RecoveryEvent, Subtask
from tests.chaos.conftest import CHAOS_USER, assert_counted_once, seconds, wait_for_final, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


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
    # Nothing of the failed job is left running or waiting to run.
    rows = wait_until(
        lambda: (rows := list(Subtask.objects.filter(job_id=poison_id)))
        and all(row.status in (Subtask.Status.FAILED, Subtask.Status.CANCELED) for row in rows)
        and rows,
        30, f"subtasks of failed job {poison_id} still active",
    )
    failed = [row for row in rows if row.status == Subtask.Status.FAILED]
    assert failed, "no subtask recorded its failure"
    tries = registry.get("diagnostic").max_retries + 1
    assert [(row.tries, row.error.startswith("TransientError")) for row in failed] == [(tries, True)] * len(failed)
    poison.refresh_from_db()
    assert (poison.done, poison.failed) == (0, len(failed))


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
        scenario.record(job, seconds(job.created_at, job.finished_at) if job.is_final else None)
        assert_counted_once(job, n)
        redispatched = RecoveryEvent.objects.filter(job_id=job.pk, kind="redispatched")
        assert set(redispatched.values_list("subtask_index", flat=True)) == set(range(n))

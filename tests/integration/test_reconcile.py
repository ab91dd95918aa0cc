"""The reconciler heals from the rows: each case set up by hand, one pass, then checked
in the database and in a real Redis. Jobs are routed to a queue no worker consumes, so
the messages it sends stay where the test can count them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.broker import SENTINEL_KEY
from jobs.models import Job, RecoveryEvent, Subtask
from jobs.reconcile import reconcile
from tests.brokers import requires_amqp, requires_redis
from tests.integration.conftest import PARKED, sent

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_a_lapsed_lease_is_queued_again_under_a_new_attempt(job, parked):
    subtask = job.subtasks.get(index=0)
    past = timezone.now() - timedelta(seconds=1)
    Subtask.objects.filter(pk=subtask.pk).update(status="running", worker="w1@host", tries=1, lease_expires_at=past)

    assert reconcile()["lease_lapsed"] == 1

    subtask.refresh_from_db()
    assert (subtask.status, subtask.attempt, subtask.worker) == ("queued", 2, "")
    assert "lease lapsed: worker w1@host" in subtask.error
    assert sent(parked) == [("jobs.tasks.run_subtasks", [[subtask.pk, 2]])]
    assert RecoveryEvent.objects.filter(kind="lease_lapsed", job=job, subtask_index=0).exists()
    assert reconcile()["lease_lapsed"] == 0, "a second pass changes nothing"


def test_a_lapsed_lease_past_the_retry_limit_fails_the_job(job, parked):
    subtask = job.subtasks.get(index=0)
    past = timezone.now() - timedelta(seconds=1)
    Subtask.objects.filter(pk=subtask.pk).update(status="running", worker="w1@host", tries=9, lease_expires_at=past)

    reconcile()

    job.refresh_from_db()
    assert job.status == "failed" and "lease lapsed" in job.error
    assert set(job.subtasks.exclude(index=0).values_list("status", flat=True)) == {"canceled"}


def test_a_due_retry_is_queued_and_sent(job, parked):
    subtask = job.subtasks.get(index=1)
    Subtask.objects.filter(pk=subtask.pk).update(status="retry_wait", attempt=2, retry_at=timezone.now())

    assert reconcile()["retry_due"] == 1
    subtask.refresh_from_db()
    assert (subtask.status, subtask.attempt) == ("queued", 2)
    assert sent(parked) == [("jobs.tasks.run_subtasks", [[subtask.pk, 2]])]


def test_a_retry_of_a_job_that_ended_meanwhile_is_dropped(job, parked):
    Subtask.objects.filter(job=job, index=1).update(status="retry_wait", attempt=2, retry_at=timezone.now())
    Job.objects.filter(pk=job.pk).update(status="canceled")

    reconcile()

    assert job.subtasks.get(index=1).status == "canceled"
    assert sent(parked) == []


def test_a_queued_subtask_whose_message_never_left_is_sent_again(job, parked, settings):
    settings.LEPTON_REDISPATCH_SECONDS = 5
    subtask = job.subtasks.get(index=0)
    Subtask.objects.filter(pk=subtask.pk).update(queued_at=timezone.now() - timedelta(seconds=6))

    assert reconcile()["redispatched"] == 1
    assert sent(parked) == [("jobs.tasks.run_subtasks", [[subtask.pk, 1]])]
    assert reconcile()["redispatched"] == 0, "sent again once per LEPTON_REDISPATCH_SECONDS"


@requires_redis
def test_after_a_broker_flush_everything_queued_is_sent_again(job, parked):
    reconcile()  # the broker is known from here on
    parked.flush()

    assert reconcile()["redispatched"] == 1
    assert RecoveryEvent.objects.filter(kind="broker_reset").count() >= 1
    subtask = job.subtasks.get(index=0)
    assert sent(parked) == [("jobs.tasks.run_subtasks", [[subtask.pk, 1]])]


@requires_amqp
def test_a_rabbitmq_that_lost_its_data_is_noticed_and_queued_work_sent_again(job, parked):
    reconcile()  # the broker is known from here on
    # What a wiped node looks like: the durable sentinel queue and the messages are gone.
    parked.delete_queue(SENTINEL_KEY)
    parked.purge(PARKED)

    assert reconcile()["redispatched"] == 1
    subtask = job.subtasks.get(index=0)
    assert sent(parked) == [("jobs.tasks.run_subtasks", [[subtask.pk, 1]])]
    resets = RecoveryEvent.objects.filter(kind="broker_reset").count()
    reconcile()
    assert RecoveryEvent.objects.filter(kind="broker_reset").count() == resets, "the reset is noticed once"


def test_a_job_stuck_in_finalizing_gets_its_combine_step_again(job, parked, settings):
    settings.LEPTON_FINALIZE_STALE_SECONDS = 5
    Job.objects.filter(pk=job.pk).update(status="finalizing", status_changed_at=timezone.now() - timedelta(seconds=6))

    assert reconcile()["finalize_resent"] == 1
    assert [name for name, _ in sent(parked)] == ["jobs.tasks.finalize_job"]
    assert reconcile()["finalize_resent"] == 0

"""Issue 8: the control plane is boring — single-flight, quiet when idle, heals only what
is lost, keeps queues consumed, and keeps history bounded (cases 6, 9, 10, 14, 18)."""

import json
import logging
import time
from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from jobs import broker as broker_module, dispatch, retention
from jobs.dispatch import HARD_TIME_LIMIT_GRACE, finalize_message, subtask_messages
from jobs.logfilters import QuietHousekeeping
from jobs.models import Housekeeping, Job, RecoveryEvent, Subtask, Worker, WorkerMinute
from jobs.quarantine import review
from jobs.reconcile import reconcile
from jobs.registry import JobType
from jobs.singleflight import SKIPPED
from jobs import tasks
from tests.brokers import ON_AMQP, inspects_redis
from tests.integration.conftest import PARKED, sent

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


# --- Case 10: single-flight -----------------------------------------------------------

def test_a_reconcile_tick_is_skipped_while_another_pass_holds_the_lease(job, parked):
    Housekeeping.objects.create(
        name="reconcile", holder="other-host:1", lease_expires_at=timezone.now() + timedelta(seconds=30)
    )
    Subtask.objects.filter(job=job, index=0).update(
        status="running", worker="w1@host", tries=1, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert tasks.reconcile() == SKIPPED
    assert tasks.review_workers() != SKIPPED, "another task name is not blocked"
    assert job.subtasks.get(index=0).status == "running"


# --- Case 18: a fresh start is not a reset; idle ticks are quiet -----------------------

def test_a_fresh_broker_with_nothing_queued_is_not_recorded_as_a_reset(parked):
    # The sentinel is a key on Redis, a durable queue on RabbitMQ.
    if ON_AMQP:
        parked.delete_queue(broker_module.SENTINEL_KEY)
    else:
        parked.client.delete(broker_module.SENTINEL_KEY)

    reconcile()

    assert not RecoveryEvent.objects.filter(kind="broker_reset").exists()


def test_an_idle_pass_logs_nothing_above_debug(parked, caplog):
    reconcile()  # the broker sentinel is set from here on
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        reconcile()
    assert [r for r in caplog.records if r.levelno > logging.DEBUG] == []


@pytest.mark.parametrize("task", ["jobs.tasks.reconcile", "jobs.tasks.review_workers"])
def test_celerys_per_tick_info_lines_for_housekeeping_are_dropped(task):
    record = logging.LogRecord("celery.app.trace", logging.INFO, "", 0, "Task %(name)s succeeded", None, None)
    record.data = {"name": task}
    other = logging.LogRecord("celery.app.trace", logging.INFO, "", 0, "Task %(name)s succeeded", None, None)
    other.data = {"name": "jobs.tasks.run_subtasks"}

    assert QuietHousekeeping().filter(record) is False
    assert QuietHousekeeping().filter(other) is True


# --- Case 9: only lost messages are sent again ------------------------------------------

@inspects_redis
def test_a_backlog_still_in_the_broker_is_not_sent_again_however_old(owner, parked, settings):
    from jobs.submit import submit_job

    settings.LEPTON_REDISPATCH_SECONDS = 1
    settings.LEPTON_JOB_WINDOW = 3
    job, _ = submit_job(owner, "diagnostic", {"subtasks": 3})
    dispatch.publish(subtask_messages(list(job.subtasks.values_list("id", "attempt")), job_type(), PARKED, "normal"))
    Subtask.objects.filter(job=job).update(queued_at=timezone.now() - timedelta(minutes=10))

    assert reconcile()["redispatched"] == 0
    assert len(sent(parked)) == 3
    assert not RecoveryEvent.objects.filter(kind="redispatched").exists()


@inspects_redis
def test_a_queued_subtask_missing_from_the_broker_is_sent_again_after_the_short_grace(job, parked, settings):
    settings.LEPTON_REDISPATCH_SECONDS = 3600
    settings.LEPTON_LOST_MESSAGE_GRACE_SECONDS = 5
    subtask = job.subtasks.get(index=0)
    Subtask.objects.filter(pk=subtask.pk).update(queued_at=timezone.now() - timedelta(seconds=6))

    assert reconcile()["redispatched"] == 1
    assert sent(parked) == [("jobs.tasks.run_subtasks", [[subtask.pk, 1]])]


@inspects_redis
@pytest.mark.parametrize("delivered_ago, sent_again", [(1, False), (60, True)])
def test_a_message_a_dead_worker_received_is_sent_again_once_older_than_the_lease(
    job, parked, settings, delivered_ago, sent_again
):
    """A worker SIGKILLed after receiving a message but before claiming its subtask leaves
    the message unacknowledged in Redis until the visibility timeout (an hour)."""
    settings.LEPTON_LEASE_SECONDS = 12
    settings.LEPTON_LOST_MESSAGE_GRACE_SECONDS = 5
    subtask = job.subtasks.get(index=0)
    Subtask.objects.filter(pk=subtask.pk).update(queued_at=timezone.now() - timedelta(seconds=delivered_ago + 6))
    dispatch.publish(subtask_messages([(subtask.pk, 1)], job_type(), PARKED, "normal"))
    # What kombu's Redis channel records for a delivery: the message in `unacked`, the
    # delivery time in `unacked_index`; the queue no longer holds it.
    client = parked.client
    raw = next(raw for raw in map(client.rpop, parked._keys(PARKED)) if raw)
    client.hset("unacked", "dead-worker-tag", json.dumps([json.loads(raw), "", PARKED]))
    client.zadd("unacked_index", {"dead-worker-tag": time.time() - delivered_ago})
    try:
        assert reconcile()["redispatched"] == int(sent_again)
        assert sent(parked) == ([("jobs.tasks.run_subtasks", [[subtask.pk, 1]])] if sent_again else [])
    finally:
        client.hdel("unacked", "dead-worker-tag")
        client.zrem("unacked_index", "dead-worker-tag")


def test_a_failed_publish_is_sent_again_at_the_next_tick(job, parked, monkeypatch, settings):
    settings.LEPTON_LOST_MESSAGE_GRACE_SECONDS = 3600  # not the grace: the failure itself
    subtask = job.subtasks.get(index=0)
    Subtask.objects.filter(pk=subtask.pk).update(queued_at=timezone.now())

    def broker_down(messages):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(dispatch, "publish", broker_down)
    dispatch._publish_logged(subtask_messages([(subtask.pk, 1)], job_type(), PARKED, "normal"))
    monkeypatch.undo()

    assert reconcile()["redispatched"] == 1
    assert sent(parked) == [("jobs.tasks.run_subtasks", [[subtask.pk, 1]])]


def job_type():
    from jobs import registry

    return registry.get("diagnostic")


# --- Case 6: quarantine never leaves a queue without a consumer ---------------------------

def worker(hostname, queues, seen_ago=0, **fields):
    now = timezone.now()
    fields.setdefault("consuming", queues)
    return Worker.objects.create(
        hostname=hostname, queues=queues, concurrency=2,
        started_at=now - timedelta(hours=1), last_seen_at=now - timedelta(seconds=seen_ago), **fields,
    )


def test_a_quarantined_worker_is_released_when_its_peer_died(broker, settings):
    until = timezone.now() + timedelta(minutes=5)
    flaky = worker("flaky@host", ["cpu"], quarantined_until=until, consuming=[])
    worker("peer@host", ["cpu"], seen_ago=3600)  # died during the cool-down

    review()

    flaky.refresh_from_db()
    assert flaky.quarantined_until <= timezone.now()
    assert "last live consumer of cpu" in flaky.quarantine_reason


def test_a_quarantined_worker_stays_quarantined_while_a_healthy_peer_lives(broker):
    until = timezone.now() + timedelta(minutes=5)
    flaky = worker("flaky@host", ["cpu"], quarantined_until=until, consuming=[])
    worker("peer@host", ["cpu"])

    review()

    flaky.refresh_from_db()
    assert flaky.quarantined_until == until


# --- Case 14: time limits, memory, retention ----------------------------------------------

def test_a_type_without_a_time_limit_gets_the_platform_default(settings):
    settings.LEPTON_DEFAULT_TIME_LIMIT_SECONDS = 600

    class NoLimit(JobType):
        name = "no_limit"

    [message] = subtask_messages([(1, 1)], NoLimit(), "default", "normal")
    assert message.options == {"soft_time_limit": 600, "time_limit": 600 + HARD_TIME_LIMIT_GRACE}
    combine = finalize_message(1, "default", NoLimit())
    assert combine.options["soft_time_limit"] == 600


def test_worker_memory_per_child_comes_from_the_setting(settings):
    assert settings.CELERY_WORKER_MAX_MEMORY_PER_CHILD == settings.LEPTON_WORKER_MAX_MEMORY_MB * 1024


def test_retention_prunes_old_history_in_batches_and_keeps_the_rest(owner, settings):
    from jobs.submit import submit_job

    settings.LEPTON_RETENTION_BATCH = 2
    long_ago = timezone.now() - timedelta(days=31)
    old, _ = submit_job(owner, "diagnostic", {"subtasks": 5})
    recent, _ = submit_job(owner, "diagnostic", {"subtasks": 2})
    active, _ = submit_job(owner, "diagnostic", {"subtasks": 2})
    Job.objects.filter(pk=old.pk).update(status="succeeded", finished_at=long_ago)
    Job.objects.filter(pk=recent.pk).update(status="succeeded", finished_at=timezone.now())
    Job.objects.filter(pk=active.pk).update(created_at=long_ago)
    RecoveryEvent.objects.create(kind="redispatched", job=recent)
    RecoveryEvent.objects.filter(job=recent).update(created_at=timezone.now() - timedelta(days=8))
    WorkerMinute.objects.create(hostname="w@h", minute=timezone.now() - timedelta(days=8), attempted=1)
    WorkerMinute.objects.create(hostname="w@h", minute=timezone.now().replace(second=0, microsecond=0), attempted=1)
    worker("gone@host", ["default"], seen_ago=8 * 86400)
    worker("here@host", ["default"])

    deleted = retention.prune()

    assert deleted == {"jobs": 1, "subtasks": 5, "recovery_events": 1, "worker_minutes": 1, "workers": 1}
    assert set(Job.objects.values_list("pk", flat=True)) == {recent.pk, active.pk}
    assert not Subtask.objects.filter(job_id=old.pk).exists()
    assert list(Worker.objects.values_list("hostname", flat=True)) == ["here@host"]
    assert tasks.prune_history() == {k: 0 for k in deleted}, "single-flight task, nothing left"


# --- Case 10 with real processes: several control consumers --------------------------------

@pytest.mark.django_db(transaction=True)
def test_several_control_consumers_count_each_lapsed_lease_once(platform, owner):
    from lepton.celery import app
    from jobs.submit import submit_job
    from tests.integration.conftest import wait_for_job

    extra = [platform.add_worker(f"control{n}", queues=["control"], concurrency=2) for n in (2, 3)]
    try:
        job, _ = submit_job(owner, "diagnostic", {"subtasks": 150})
        wait_for_job(job.pk, timeout=120)
        Job.objects.filter(pk=job.pk).update(status="running", done=0)
        lapsed = timezone.now() - timedelta(seconds=5)
        Subtask.objects.filter(job=job).update(
            status="running", worker="ghost@lepton-test", tries=1, lease_expires_at=lapsed, result=None
        )
        for _ in range(12):
            app.send_task("jobs.tasks.reconcile", queue="control")
        job = wait_for_job(job.pk, timeout=120)
    finally:
        for service in extra:
            service.stop()
            platform.services.remove(service)

    assert job.status == "succeeded", job.error
    failed = WorkerMinute.objects.filter(hostname="ghost@lepton-test").aggregate(n=Sum("failed"))["n"]
    assert failed == 150, "each lapsed lease counted once against its worker"
    assert RecoveryEvent.objects.filter(job=job, kind="lease_lapsed").count() == 150

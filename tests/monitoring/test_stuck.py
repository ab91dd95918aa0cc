"""monitoring.stuck: which live workers count as stuck consumers, from rows and the broker."""

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.models import Subtask, WorkerMinute
from monitoring import stuck
from tests.monitoring import factories as make

pytestmark = pytest.mark.django_db


@pytest.fixture
def now(settings):
    settings.LEPTON_STUCK_CONSUMER_SECONDS = 60
    return timezone.now()


@pytest.fixture
def io_backlog(real_broker):
    real_broker.client.rpush("io", b"{}")


def test_a_live_worker_with_free_slots_that_claims_nothing_from_a_waiting_queue_is_stuck(now, io_backlog):
    make.worker("w1", now, queues=["io"])
    assert stuck.stuck_consumers(now) == ["w1"]


def test_nothing_waiting_in_the_broker_means_not_stuck(now):
    make.worker("w1", now, queues=["io"])
    assert stuck.stuck_consumers(now) == []


def test_a_worker_that_claimed_within_the_window_is_not_stuck(now, io_backlog):
    make.worker("w1", now, queues=["io"])
    job = make.job(queue="io", total=2)
    make.subtask(job, 0, Subtask.Status.SUCCEEDED, worker="w1", started_at=now - timedelta(seconds=30))
    assert stuck.stuck_consumers(now) == []


def test_a_worker_with_attempts_counted_in_the_window_is_not_stuck(now, io_backlog):
    make.worker("w1", now, queues=["io"])
    WorkerMinute.objects.create(hostname="w1", minute=now.replace(second=0, microsecond=0), attempted=3)
    assert stuck.stuck_consumers(now) == []


def test_a_worker_with_every_slot_busy_is_not_stuck(now, io_backlog):
    make.worker("w1", now, queues=["io"], concurrency=1)
    job = make.job(queue="io", total=2)
    make.subtask(job, 0, Subtask.Status.RUNNING, worker="w1", started_at=now - timedelta(minutes=10))
    assert stuck.stuck_consumers(now) == []


def test_quarantined_silent_and_just_started_workers_are_not_stuck(now, io_backlog):
    make.worker("quarantined", now, queues=["io"], quarantined_until=now + timedelta(minutes=5))
    make.worker("silent", now, seen_ago=600, queues=["io"])
    make.worker("new", now, queues=["io"], started_at=now - timedelta(seconds=10))
    assert stuck.stuck_consumers(now) == []


def test_a_worker_not_consuming_the_waiting_queue_is_not_stuck(now, io_backlog):
    make.worker("w1", now, queues=["cpu"])
    assert stuck.stuck_consumers(now) == []

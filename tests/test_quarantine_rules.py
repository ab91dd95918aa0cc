"""Who gets quarantined: the rules of jobs.quarantine over WorkerMinute rows."""

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.models import Worker, WorkerMinute
from jobs.quarantine import reason_to_quarantine
from jobs.workers import add_attempts

pytestmark = pytest.mark.django_db


@pytest.fixture
def now():
    return timezone.now()


def worker(name, queues, now, **fields):
    return Worker.objects.create(
        hostname=name, queues=queues, consuming=queues, concurrency=2, started_at=now, last_seen_at=now, **fields
    )


def attempts(name, now, attempted, failed):
    add_attempts(name, now.replace(second=0, microsecond=0), attempted=attempted, failed=failed)


def test_it_quarantines_a_worker_failing_far_more_than_its_peers(now):
    flaky, healthy = worker("flaky", ["default"], now), worker("healthy", ["default"], now)
    attempts("flaky", now, 40, 30)
    attempts("healthy", now, 40, 2)
    reason = reason_to_quarantine(flaky, [flaky, healthy], now)
    assert reason.startswith("P_n=0.75 (30/40 attempts failed")
    assert reason_to_quarantine(healthy, [flaky, healthy], now) is None


def test_it_needs_a_minimum_sample(now, settings):
    settings.LEPTON_QUARANTINE_MIN_ATTEMPTS = 20
    flaky, healthy = worker("flaky", ["default"], now), worker("healthy", ["default"], now)
    attempts("flaky", now, 19, 19)
    assert reason_to_quarantine(flaky, [flaky, healthy], now) is None


def test_a_poison_job_failing_everywhere_quarantines_nobody(now):
    a, b = worker("a", ["default"], now), worker("b", ["default"], now)
    attempts("a", now, 50, 45)
    attempts("b", now, 50, 40)
    assert reason_to_quarantine(a, [a, b], now) is None


def test_it_never_quarantines_the_last_healthy_consumer_of_a_queue(now):
    flaky = worker("flaky", ["default", "cpu"], now)
    healthy = worker("healthy", ["default"], now)
    attempts("flaky", now, 40, 40)
    attempts("healthy", now, 40, 0)
    assert reason_to_quarantine(flaky, [flaky, healthy], now) is None


def test_failures_before_a_release_do_not_count_again(now):
    released_at = now - timedelta(seconds=5)
    flaky = worker("flaky", ["default"], now, quarantined_until=released_at)
    healthy = worker("healthy", ["default"], now)
    add_attempts("flaky", (released_at - timedelta(minutes=2)).replace(second=0, microsecond=0), attempted=40, failed=40)
    attempts("healthy", now, 40, 0)
    assert reason_to_quarantine(flaky, [flaky, healthy], now) is None


def test_a_worker_in_quarantine_is_not_quarantined_again(now):
    flaky = worker("flaky", ["default"], now, quarantined_until=now + timedelta(minutes=5))
    healthy = worker("healthy", ["default"], now)
    attempts("flaky", now, 40, 40)
    assert reason_to_quarantine(flaky, [flaky, healthy], now) is None


def test_flushes_into_the_same_minute_add_up(now):
    minute = now.replace(second=0, microsecond=0)
    add_attempts("w1", minute, attempted=3, succeeded=3)
    add_attempts("w1", minute, attempted=2, failed=2)
    add_attempts("w1", minute - timedelta(minutes=1), attempted=1, succeeded=1)

    rows = WorkerMinute.objects.filter(hostname="w1").order_by("minute")
    assert [(row.minute, row.attempted, row.succeeded, row.failed) for row in rows] == [
        (minute - timedelta(minutes=1), 1, 1, 0),
        (minute, 5, 3, 2),
    ]

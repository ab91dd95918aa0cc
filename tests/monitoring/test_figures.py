"""monitoring.figures: the numbers the health page, /metrics, /readyz and alerts share."""

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.models import Housekeeping, Job, RecoveryEvent, Subtask, WorkerMinute
from monitoring import figures
from tests.monitoring import factories as make

pytestmark = pytest.mark.django_db


@pytest.fixture
def now():
    return timezone.now()


def test_it_lists_every_job_queue_and_the_control_queue(now, settings):
    assert set(figures.queue_figures(now)) == {*settings.LEPTON_QUEUES, "control"}


def test_it_reports_outstanding_subtasks_and_the_oldest_queued_one(now):
    job = make.job(queue="cpu", total=10, done=3, failed=1)
    make.subtask(job, 0, Subtask.Status.QUEUED, queued_at=now - timedelta(seconds=90))
    make.subtask(job, 1, Subtask.Status.QUEUED, queued_at=now - timedelta(seconds=30))
    make.subtask(job, 2, Subtask.Status.RUNNING, queued_at=now - timedelta(seconds=600))
    make.job(queue="cpu", status=Job.Status.SUCCEEDED, total=5, done=5)

    cpu = figures.queue_figures(now)["cpu"]

    assert cpu.outstanding == 6
    assert cpu.oldest_waiting_seconds == pytest.approx(90, abs=1)
    assert figures.queue_figures(now)["io"].oldest_waiting_seconds is None


def test_it_reads_the_broker_depth(now, real_broker):
    real_broker.client.rpush("io", *[b"{}"] * 3)
    assert figures.queue_figures(now)["io"].depth == 3
    assert figures.queue_figures(now)["cpu"].depth == 0


def test_a_broker_that_is_down_gives_no_depth_rather_than_an_error(now, broker_down):
    assert figures.queue_figures(now)["default"].depth is None


def test_consumers_are_live_unquarantined_workers_consuming_the_queue(now):
    make.worker("a", now, queues=["default", "cpu"])
    make.worker("b", now, queues=["cpu"])
    make.worker("stale", now, seen_ago=60, queues=["cpu"])
    make.worker("quarantined", now, queues=["cpu"], consuming=[], quarantined_until=now + timedelta(minutes=5))

    queues = figures.queue_figures(now)

    assert (queues["default"].consumers, queues["cpu"].consumers, queues["io"].consumers) == (1, 2, 0)


def test_worker_states_follow_heartbeats_quarantine_and_consumers(now, settings):
    settings.LEPTON_WORKER_HEARTBEAT_SECONDS = 5
    settings.LEPTON_HEALTH_WORKER_GONE_SECONDS = 60
    make.worker("online", now, seen_ago=2)
    make.worker("draining", now, seen_ago=2, consuming=[])
    make.worker("quarantined", now, consuming=[], quarantined_until=now + timedelta(minutes=1))
    make.worker("stale", now, seen_ago=30)
    make.worker("gone", now, seen_ago=120)

    states = {w.hostname: w.state for w in figures.worker_figures(now)}

    assert states == {"online": "online", "draining": "draining", "quarantined": "quarantined", "stale": "stale", "gone": "gone"}


def test_gone_workers_fold_away_after_a_while(now, settings):
    settings.LEPTON_HEALTH_GONE_FOLD_SECONDS = 3600
    make.worker("recently-gone", now, seen_ago=600)
    make.worker("long-gone", now, seen_ago=7200)

    assert [w.hostname for w in figures.worker_figures(now)] == ["recently-gone"]


def test_it_says_why_a_worker_is_gone(now):
    make.worker("quarantined", now, seen_ago=300, quarantined_until=now, quarantine_reason="P_n=0.90")
    handed = make.worker("handed-back", now, seen_ago=300)
    make.worker("silent", now, seen_ago=300)
    job = make.job()
    RecoveryEvent.objects.create(kind=RecoveryEvent.Kind.HANDED_BACK, job=job, worker=handed.hostname)

    reasons = {w.hostname: w.gone_reason for w in figures.worker_figures(now)}

    assert "quarantine" in reasons["quarantined"] and "P_n=0.90" in reasons["quarantined"]
    assert reasons["handed-back"] == "shut down; handed back 1 running subtask(s)"
    assert reasons["silent"].startswith("heartbeat timeout")


def test_it_counts_running_subtasks_attempts_and_p_n_per_worker(now):
    make.worker("w1", now)
    make.worker("w2", now)
    job = make.job()
    for index in range(3):
        make.subtask(job, index, Subtask.Status.RUNNING, worker="w1")
    minute = now.replace(second=0, microsecond=0)
    WorkerMinute.objects.create(hostname="w1", minute=minute, attempted=10, succeeded=7, failed=3)
    WorkerMinute.objects.create(hostname="w1", minute=minute - timedelta(hours=2), attempted=50, failed=50)

    by_host = {w.hostname: w for w in figures.worker_figures(now)}

    assert (by_host["w1"].running, by_host["w1"].attempted, by_host["w1"].failed, by_host["w1"].done) == (3, 10, 3, 7)
    assert by_host["w1"].p_n == pytest.approx(0.3)
    assert (by_host["w2"].running, by_host["w2"].p_n) == (0, None)


def test_worker_figures_cost_a_fixed_number_of_queries(now, django_assert_max_num_queries):
    for n in range(30):
        make.worker(f"w{n}", now, seen_ago=n * 10)
    with django_assert_max_num_queries(4):
        figures.worker_figures(now)


def test_failure_ratio_is_failed_over_finished_in_the_window(now):
    job = make.job()
    make.finished_subtask(job, 0, Subtask.Status.SUCCEEDED, now - timedelta(seconds=10))
    make.finished_subtask(job, 1, Subtask.Status.SUCCEEDED, now - timedelta(seconds=20))
    make.finished_subtask(job, 2, Subtask.Status.SUCCEEDED, now - timedelta(seconds=30))
    make.finished_subtask(job, 3, Subtask.Status.FAILED, now - timedelta(seconds=40))
    make.finished_subtask(job, 4, Subtask.Status.CANCELED, now - timedelta(seconds=40))
    make.finished_subtask(job, 5, Subtask.Status.FAILED, now - timedelta(seconds=400))

    assert figures.failure_ratio(now, 300) == pytest.approx(0.25)
    assert figures.failure_ratio(now - timedelta(hours=1), 300) is None


def test_reconciler_last_success_comes_from_housekeeping(now):
    assert figures.reconciler_last_success() is None
    Housekeeping.objects.create(name="reconcile", last_succeeded_at=now)
    assert figures.reconciler_last_success() == now

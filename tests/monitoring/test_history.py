"""Per-minute snapshots: closed minutes once each, gaps in one row, totals that only grow."""

from datetime import datetime, timedelta, timezone as dt_timezone

import pytest

from jobs.models import Job, RecoveryEvent, Subtask
from monitoring import history
from monitoring.models import MetricTotal, Snapshot
from monitoring.tasks import take_snapshot
from tests.monitoring import factories as make

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=dt_timezone.utc)
#: A pass at this moment closes every minute before T0.
CLOSES_T0 = T0 + timedelta(seconds=history.SETTLE_SECONDS)


def total(metric, **labels):
    row = MetricTotal.objects.filter(metric=metric, key=history.total_key(labels)).first()
    return row.value if row else 0


def finished_job(type="primes", queue="cpu", status=Job.Status.SUCCEEDED, at=T0, subtasks=()):
    job = make.job(type=type, queue=queue, status=status, finished_at=at)
    Job.objects.filter(pk=job.pk).update(created_at=at - timedelta(seconds=20))
    for index, (sub_status, sub_at) in enumerate(subtasks):
        make.finished_subtask(job, index, sub_status, sub_at, wait=1.0, run=2.0)
    return job


def test_the_first_snapshot_takes_in_all_history_up_to_the_last_closed_minute():
    finished_job(at=T0 - timedelta(days=3), subtasks=[(Subtask.Status.SUCCEEDED, T0 - timedelta(days=3))])
    finished_job(at=T0 + timedelta(seconds=50), subtasks=[(Subtask.Status.FAILED, T0 + timedelta(seconds=50))])

    snapshot = history.take(T0 + timedelta(seconds=95))  # 12:01 is closed, 12:02 is not

    assert (snapshot.period_start, snapshot.period_end) == (history.BEGINNING, T0 + timedelta(minutes=1))
    assert (snapshot.subtasks_succeeded, snapshot.subtasks_failed, snapshot.jobs_finished) == (1, 1, 2)
    assert total("lepton_jobs_submitted_total", type="primes", queue="cpu") == 2
    assert total("lepton_subtasks_finished_total", type="primes", queue="cpu", outcome="failed") == 1


def test_a_minute_is_counted_once_however_often_the_task_runs():
    history.take(CLOSES_T0)
    finished_job(at=T0 + timedelta(seconds=10), subtasks=[(Subtask.Status.SUCCEEDED, T0 + timedelta(seconds=10))])

    first = history.take(T0 + timedelta(seconds=95))
    again = history.take(T0 + timedelta(seconds=100))

    assert first is not None and again is None
    assert total("lepton_subtasks_finished_total", type="primes", queue="cpu", outcome="succeeded") == 1


def test_a_gap_while_beat_was_down_is_one_snapshot_and_nothing_is_lost():
    history.take(CLOSES_T0)
    for minute in range(0, 30, 5):
        at = T0 + timedelta(minutes=minute, seconds=1)
        finished_job(at=at, subtasks=[(Subtask.Status.SUCCEEDED, at)])

    snapshot = history.take(T0 + timedelta(hours=1))

    assert snapshot.period_start == T0
    assert snapshot.subtasks_succeeded == 6
    assert Snapshot.objects.count() == 2


def test_it_records_gauges_latency_and_histograms():
    history.take(CLOSES_T0)
    make.worker("w1", T0 + timedelta(seconds=90), queues=["cpu"])
    finished_job(at=T0 + timedelta(seconds=30), subtasks=[(Subtask.Status.SUCCEEDED, T0 + timedelta(seconds=30))])

    snapshot = history.take(T0 + timedelta(seconds=90))

    assert snapshot.workers["online"] == 1
    assert snapshot.queues["cpu"]["consumers"] == 1
    assert snapshot.wait_p50 == pytest.approx(1.0)
    assert snapshot.run_p99 == pytest.approx(2.0)
    assert snapshot.job_p50 == pytest.approx(20.0)
    assert sum(snapshot.histograms["run"]["cpu|primes"]) == 1


def test_histograms_are_cumulative_across_snapshots():
    history.take(CLOSES_T0)
    finished_job(at=T0 + timedelta(seconds=5), subtasks=[(Subtask.Status.SUCCEEDED, T0 + timedelta(seconds=5))])
    history.take(T0 + timedelta(minutes=1, seconds=30))
    finished_job(at=T0 + timedelta(seconds=65), subtasks=[(Subtask.Status.SUCCEEDED, T0 + timedelta(seconds=65))])

    latest = history.take(T0 + timedelta(minutes=2, seconds=30))

    assert sum(latest.histograms["run"]["cpu|primes"]) == 2
    assert latest.seconds == 60


def test_it_counts_recovery_events_and_retries():
    history.take(CLOSES_T0)
    job = make.job()
    make.finished_subtask(job, 0, Subtask.Status.SUCCEEDED, T0 + timedelta(seconds=5), tries=3)
    event = RecoveryEvent.objects.create(kind=RecoveryEvent.Kind.LEASE_LAPSED, job=job)
    RecoveryEvent.objects.filter(pk=event.pk).update(created_at=T0 + timedelta(seconds=5))

    history.take(T0 + timedelta(seconds=90))

    assert total("lepton_subtask_retries_total") == 2
    assert total("lepton_recovery_events_total", kind="lease_lapsed") == 1


def test_pruning_old_snapshots_leaves_the_totals(settings):
    settings.LEPTON_SNAPSHOT_RETENTION_DAYS = 1
    history.take(CLOSES_T0)
    finished_job(at=T0 + timedelta(seconds=5), subtasks=[(Subtask.Status.SUCCEEDED, T0 + timedelta(seconds=5))])
    history.take(T0 + timedelta(minutes=2))

    history.record(T0 + timedelta(days=2))

    assert Snapshot.objects.filter(period_end__lt=T0 + timedelta(days=1)).count() == 0
    assert total("lepton_subtasks_finished_total", type="primes", queue="cpu", outcome="succeeded") == 1


def test_the_beat_task_is_single_flight_and_returns_the_snapshot():
    snapshot_id = take_snapshot()
    assert snapshot_id == Snapshot.objects.get().pk


def test_the_task_runs_on_the_control_queue_every_minute(settings):
    assert settings.CELERY_TASK_ROUTES["monitoring.tasks.take_snapshot"] == {"queue": settings.CONTROL_QUEUE}
    assert settings.CELERY_BEAT_SCHEDULE["take-snapshot"]["task"] == "monitoring.tasks.take_snapshot"


def test_a_snapshot_spanning_a_gap_keeps_counts_and_histograms_but_no_percentiles():
    finished_job(at=T0 - timedelta(days=1), subtasks=[(Subtask.Status.SUCCEEDED, T0 - timedelta(days=1))])

    snapshot = history.take(CLOSES_T0)

    assert snapshot.subtasks_succeeded == 1 and sum(snapshot.histograms["run"]["cpu|primes"]) == 1
    assert (snapshot.run_p50, snapshot.wait_p99, snapshot.job_p50) == (None, None, None)


def test_the_platforms_own_canary_jobs_are_left_out_of_the_figures():
    history.take(CLOSES_T0)
    at = T0 + timedelta(seconds=10)
    finished_job(type="canary", queue="io", at=at, subtasks=[(Subtask.Status.SUCCEEDED, at)])
    finished_job(at=at, subtasks=[(Subtask.Status.SUCCEEDED, at)])

    snapshot = history.take(T0 + timedelta(seconds=95))

    assert (snapshot.subtasks_succeeded, snapshot.jobs_finished) == (1, 1)
    assert total("lepton_jobs_finished_total", type="canary", queue="io", outcome="succeeded") == 0
    assert total("lepton_jobs_finished_total", type="primes", queue="cpu", outcome="succeeded") == 1

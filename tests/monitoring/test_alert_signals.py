"""The shipped rules over real figures: what each signal reads from the rows."""

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.models import Housekeeping, Subtask, WorkerMinute
from monitoring.alerting.evaluator import evaluate_rules
from monitoring.alerting.signals import Readings
from monitoring.alerting.tasks import evaluate_alerts
from monitoring.models import Alert, AlertRule, CanaryRun
from tests.monitoring import factories as make

pytestmark = pytest.mark.django_db


def open_alerts(rule_name):
    return {
        tuple(sorted(a.labels.items())): a.state
        for a in Alert.objects.filter(rule__name=rule_name, resolved_at__isnull=True)
    }


def test_the_shipped_rules_exist_and_the_watchdog_is_off():
    rules = {rule.name: rule for rule in AlertRule.objects.filter(shipped=True)}
    assert {"No consumer for a queue", "Backlog: oldest waiting subtask", "High failure ratio", "Stuck consumer",
            "Canary failing", "Reconciler stale", "Watchdog"} <= set(rules)
    assert not rules["Watchdog"].enabled


def test_a_queue_nobody_consumes_raises_the_no_consumer_alert(settings):
    now = timezone.now()
    make.worker("w1", now, queues=["default", "cpu"])

    evaluate_rules(now)

    assert open_alerts("No consumer for a queue") == {(("queue", "io"),): "pending"}


def test_a_long_wait_on_a_queue_raises_the_backlog_alert():
    now = timezone.now()
    job = make.job(queue="cpu", total=1)
    make.subtask(job, 0, Subtask.Status.QUEUED, queued_at=now - timedelta(minutes=10))

    evaluate_rules(now)

    assert open_alerts("Backlog: oldest waiting subtask") == {(("queue", "cpu"),): "pending"}


def test_a_stale_reconciler_raises_its_alert():
    now = timezone.now()
    Housekeeping.objects.create(name="reconcile", last_succeeded_at=now - timedelta(minutes=5))
    evaluate_rules(now)
    assert open_alerts("Reconciler stale") == {(): "pending"}


def test_canary_failures_in_a_row_fire_at_once():
    now = timezone.now()
    for seconds in (20, 10):
        CanaryRun.objects.create(queue="io", submitted_at=now - timedelta(seconds=seconds), outcome="failed")
    evaluate_rules(now)
    assert open_alerts("Canary failing") == {(("queue", "io"),): "firing"}


def test_a_flaky_worker_and_a_high_failure_ratio_are_read_from_the_rows():
    now = timezone.now()
    make.worker("w1", now, queues=["default"])
    WorkerMinute.objects.create(hostname="w1", minute=now.replace(second=0, microsecond=0), attempted=10, failed=8)
    job = make.job(queue="default", total=4)
    for index, status in enumerate(["failed", "failed", "succeeded", "failed"]):
        make.finished_subtask(job, index, status, finished_at=now - timedelta(seconds=30))
    readings = Readings(now)

    assert readings.samples(AlertRule.objects.get(name="Flaky worker")) == [({"worker": "w1"}, 0.8)]
    assert readings.samples(AlertRule.objects.get(name="High failure ratio")) == [({}, 0.75)]


def test_the_evaluation_task_runs_single_flight_and_records_its_pass():
    evaluate_alerts()
    row = Housekeeping.objects.get(name="evaluate_alerts")
    assert row.last_succeeded_at is not None and row.holder == ""

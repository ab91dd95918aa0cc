"""monitoring.canary: runs submitted per queue as the system user, closed, failed past the
deadline, counted for the alert and readiness; retention of canary runs and alerts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.models import Job
from monitoring import canary, retention
from monitoring.models import Alert, CanaryRun
from tests.monitoring.alerting_helpers import rule

pytestmark = pytest.mark.django_db


def finish(job, status, seconds_after):
    Job.objects.filter(pk=job.pk).update(status=status, finished_at=job.created_at + timedelta(seconds=seconds_after))


def test_it_submits_one_tiny_job_per_job_queue_as_the_canary_user(settings):
    assert canary.run_pass() == len(settings.LEPTON_QUEUES)

    jobs = Job.objects.filter(type="canary")
    assert sorted(jobs.values_list("queue", flat=True)) == sorted(settings.LEPTON_QUEUES)
    assert {job.owner.username for job in jobs} == {"lepton-canary"}
    assert {(job.priority, job.total) for job in jobs} == {("high", 1)}
    assert not jobs.first().owner.has_usable_password()


def test_it_skips_admission_control(settings):
    settings.LEPTON_MAX_ACTIVE_JOBS_PER_USER = 1
    settings.LEPTON_MAX_OUTSTANDING_SUBTASKS = 1
    canary.run_pass()
    assert CanaryRun.objects.filter(outcome="running").count() == len(settings.LEPTON_QUEUES)


def test_a_queue_with_a_run_in_flight_gets_no_second_one(settings):
    canary.run_pass()
    assert canary.run_pass() == 0
    assert CanaryRun.objects.count() == len(settings.LEPTON_QUEUES)


def test_a_finished_job_closes_its_run_with_its_latency():
    canary.run_pass()
    run = CanaryRun.objects.get(queue="io")
    finish(run.job, Job.Status.SUCCEEDED, 0.5)

    canary.close_runs(timezone.now())

    run.refresh_from_db()
    assert run.outcome == "succeeded"
    assert run.latency_seconds == pytest.approx(0.5 + (run.job.created_at - run.submitted_at).total_seconds(), abs=0.01)


def test_a_run_past_its_deadline_fails_and_its_job_is_canceled(settings):
    canary.run_pass()
    later = timezone.now() + timedelta(seconds=settings.LEPTON_CANARY_DEADLINE_SECONDS + 1)

    canary.close_runs(later)

    run = CanaryRun.objects.get(queue="cpu")
    assert (run.outcome, run.error) == ("failed", "did not finish within 120s")
    assert Job.objects.get(pk=run.job_id).status == "canceled"


def test_it_counts_failures_since_each_queues_last_success_and_readiness_warns():
    now = timezone.now()
    for seconds, outcome in [(-30, "succeeded"), (-20, "failed"), (-10, "failed"), (0, "running")]:
        CanaryRun.objects.create(queue="io", submitted_at=now + timedelta(seconds=seconds), outcome=outcome)
    CanaryRun.objects.create(queue="cpu", submitted_at=now, outcome="succeeded")

    assert canary.consecutive_failures() == {"default": 0, "cpu": 0, "io": 2}
    assert canary.readiness_check(now) == ("canary", "warn", "queue io: last 2 run(s) failed")


def test_readiness_passes_when_the_latest_runs_succeeded_or_none_finished():
    now = timezone.now()
    assert canary.readiness_check(now)[1] == "pass"
    CanaryRun.objects.create(queue="io", submitted_at=now, outcome="succeeded")
    assert canary.readiness_check(now) == ("canary", "pass", "the latest canary run on each queue succeeded")


def test_retention_prunes_old_runs_and_old_canary_jobs_only(settings):
    canary.run_pass()
    old = timezone.now() - timedelta(days=settings.LEPTON_CANARY_RETENTION_DAYS + 1)
    run = CanaryRun.objects.get(queue="io")
    finish(run.job, Job.Status.SUCCEEDED, 1)
    Job.objects.filter(pk=run.job_id).update(created_at=old)
    CanaryRun.objects.filter(pk=run.pk).update(submitted_at=old, outcome="succeeded")

    pruned = retention.prune()

    assert (pruned["canary_runs"], pruned["canary_jobs"]) == (1, 1)
    assert CanaryRun.objects.count() == len(settings.LEPTON_QUEUES) - 1
    assert not Job.objects.filter(pk=run.job_id).exists()


def test_retention_prunes_resolved_alerts_but_never_open_ones(settings):
    backlog = rule()
    old = timezone.now() - timedelta(days=settings.LEPTON_ALERT_RETENTION_DAYS + 1)
    fields = dict(rule=backlog, started_at=old, last_evaluated_at=old)
    Alert.objects.create(labels={"queue": "io"}, fingerprint="io", state="resolved", resolved_at=old, **fields)
    still_open = Alert.objects.create(labels={"queue": "cpu"}, fingerprint="cpu", state="firing", **fields)

    assert retention.prune()["alerts"] == 1
    assert list(Alert.objects.all()) == [still_open]

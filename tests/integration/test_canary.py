"""The canary with real workers: one tiny job per job queue, measured end to end."""

import time

import pytest
from django.conf import settings
from django.utils import timezone

from jobs.models import Job
from monitoring import canary
from monitoring.alerting.tasks import run_canary
from monitoring.models import CanaryRun

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_canary_runs_on_every_job_queue_through_real_workers(platform):
    run_canary()  # a pass under the single-flight lease; beat's own tick may be the one that runs

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        canary.close_runs(timezone.now())
        succeeded = set(CanaryRun.objects.filter(outcome="succeeded").values_list("queue", flat=True))
        if succeeded >= set(settings.LEPTON_QUEUES):
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"canary runs: {list(CanaryRun.objects.values_list('queue', 'outcome', 'error'))}")

    runs = CanaryRun.objects.filter(outcome="succeeded")
    assert all(run.latency_seconds > 0 for run in runs)
    jobs = Job.objects.filter(pk__in=runs.values("job"))
    assert {job.queue for job in jobs} == set(settings.LEPTON_QUEUES), "io too, which no built-in type routes to"
    assert {job.owner.username for job in jobs} == {canary.CANARY_USERNAME}
    assert canary.readiness_check(timezone.now())[1] == "pass"

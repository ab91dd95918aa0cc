"""The broker loses messages or hands them out twice; the database still knows the work.

d. FLUSHALL mid-job, e. Redis stopped and restarted mid-job, f. a subtask that runs past
the visibility timeout and is delivered again while it runs.
"""

import time
from functools import partial

import pytest
from django.utils import timezone

from jobs.models import Job, RecoveryEvent, Subtask
from tests.brokers import requires_redis
from tests.chaos.conftest import (
    all_running,
    assert_counted_once,
    hostname,
    seconds,
    seconds_to_finish,
    wait_for_final,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

#: Enough short subtasks that most are waiting in Redis when the broker loses them.
SUBTASKS = 60
#: Seconds the broker stays down in scenario e.
DOWNTIME = 1.0
#: Scenario f's visibility timeout, in seconds: far below its subtasks' run time.
VISIBILITY_TIMEOUT = 2


def submit_and_wait_for_progress(platform):
    """A job of SUBTASKS short subtasks, once some have succeeded and most are still queued."""
    job_id = platform.submit("diagnostic", subtasks=SUBTASKS, sleep_ms=100)
    wait_until(
        lambda: Subtask.objects.filter(job_id=job_id, status=Subtask.Status.SUCCEEDED).count() >= 10,
        60, f"job {job_id} made no progress",
    )
    return job_id


@requires_redis
def test_d_a_flushed_broker_delays_the_job_but_loses_nothing(start_platform, chaos):
    # A window above the job's size: every subtask not yet run is a message in Redis.
    platform = start_platform(LEPTON_JOB_WINDOW=str(SUBTASKS * 2))
    platform.add_worker()
    scenario = chaos.scenario("d. FLUSHALL on the broker")
    for _ in range(chaos.reps):
        job_id = submit_and_wait_for_progress(platform)
        flushed_at = timezone.now()
        with platform.redis.client() as client:
            client.flushall()
        job = wait_for_final(job_id)
        scenario.record(job, seconds_to_finish(job, since=flushed_at))
        assert_counted_once(job, SUBTASKS)
        assert RecoveryEvent.objects.filter(kind="broker_reset", created_at__gt=flushed_at).exists()


@requires_redis
def test_e_a_restarted_broker_delays_the_job_but_loses_nothing(start_platform, chaos):
    platform = start_platform()
    platform.add_worker()
    scenario = chaos.scenario("e. Redis stopped and restarted")
    for _ in range(chaos.reps):
        job_id = submit_and_wait_for_progress(platform)
        platform.redis.stop()
        time.sleep(DOWNTIME)  # the outage itself
        platform.redis.start()
        restarted_at = timezone.now()
        job = wait_for_final(job_id)
        scenario.record(job, seconds_to_finish(job, since=restarted_at))
        assert_counted_once(job, SUBTASKS)
        assert RecoveryEvent.objects.filter(kind="broker_reset", created_at__gt=restarted_at).exists()


@requires_redis
def test_f_a_message_delivered_again_while_its_subtask_runs_is_not_counted_twice(start_platform, chaos):
    # Leases outlast the subtasks, so only the broker's redelivery can run one twice.
    platform = start_platform(LEPTON_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT), LEPTON_LEASE_SECONDS="30")
    first = platform.add_worker()
    n = 2
    # Long enough that the second worker is up while they run, even on a loaded machine.
    job_id = platform.submit("diagnostic", subtasks=n, sleep_ms=15000)
    rows = wait_until(partial(all_running, job_id, n, worker=hostname(first)), 30, "the subtasks never started")
    # Once past the visibility timeout, Redis counts the messages of the running subtasks
    # as lost: a worker starting up restores them to their queue, and takes them.
    running_for = seconds(max(row.started_at for row in rows), timezone.now())
    time.sleep(max(0.0, VISIBILITY_TIMEOUT + 0.5 - running_for))
    second = platform.add_worker()
    assert Job.objects.get(pk=job_id).status == Job.Status.RUNNING, "the second worker started after the job ended"
    job = wait_for_final(job_id)
    chaos.scenario("f. redelivered past the visibility timeout").record(job)
    assert_counted_once(job, n)
    # Delivered again to the second worker, which found the subtasks claimed and did nothing.
    assert "event=claim_rejected" in second.log(), "the messages were not delivered again"
    rows = Subtask.objects.filter(job_id=job_id)
    assert [(row.attempt, row.tries, row.worker) for row in rows] == [(1, 1, hostname(first))] * n
    assert not RecoveryEvent.objects.filter(job_id=job_id).exists()

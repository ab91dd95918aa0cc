"""The broker loses messages or hands them out twice; the database still knows the work.

d. the broker loses its data mid-job, e. the broker restarted mid-job, f. a message
delivered again while its subtask runs.

Each fault is done to whichever broker the suite runs on (tests/chaos/conftest.py,
Platform): on Redis FLUSHALL, a restart without persistence and the visibility timeout;
on RabbitMQ, which has none of these, their analogues: the vhost deleted and created again,
every connection cut (durable queues and messages kept, as across a restart), and one
consumer's connection cut while it holds messages unacknowledged.
"""

import time
from functools import partial

import pytest
from django.utils import timezone

from jobs.models import Job, RecoveryEvent, Subtask
from tests.brokers import ON_AMQP
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

#: Enough short subtasks that most are waiting in the broker when it loses them: the job
#: has seconds of work left after its first 10 subtasks, as a rabbitmqctl command takes
#: a second or two to land.
SUBTASKS = 60
SUBTASK_MS = 300
#: Seconds the broker stays down in scenario e.
DOWNTIME = 1.0
#: Scenario f's visibility timeout, in seconds: far below its subtasks' run time.
VISIBILITY_TIMEOUT = 2
#: Scenario f's subtasks must still run once a second worker has started beside them.
SURVIVES_A_WORKER_START_MS = 15000


def submit_and_wait_for_progress(platform):
    """A job of SUBTASKS short subtasks, once some have succeeded and most are still queued."""
    job_id = platform.submit("diagnostic", subtasks=SUBTASKS, sleep_ms=SUBTASK_MS)
    wait_until(
        lambda: Subtask.objects.filter(job_id=job_id, status=Subtask.Status.SUCCEEDED).count() >= 10,
        60, f"job {job_id} made no progress",
    )
    return job_id


def test_d_a_broker_that_lost_its_data_delays_the_job_but_loses_nothing(start_platform, chaos):
    """FLUSHALL on Redis; on RabbitMQ the vhost deleted and created again. Either way the
    sentinel is gone with the messages, and the reconciler says it saw the reset."""
    # A window above the job's size: every subtask not yet run is a message in the broker.
    platform = start_platform(LEPTON_JOB_WINDOW=str(SUBTASKS * 2))
    platform.add_worker()
    fault = "vhost deleted and re-created" if ON_AMQP else "FLUSHALL on the broker"
    scenario = chaos.scenario(f"d. {fault}")
    for _ in range(chaos.reps):
        job_id = submit_and_wait_for_progress(platform)
        lost_at = timezone.now()
        platform.lose_broker_data()
        job = wait_for_final(job_id)
        scenario.record(job, seconds_to_finish(job, since=lost_at))
        assert_counted_once(job, SUBTASKS)
        assert RecoveryEvent.objects.filter(kind="broker_reset", created_at__gt=lost_at).exists()


def test_e_a_restarted_broker_delays_the_job_but_loses_nothing(start_platform, chaos):
    """Redis stopped and started again, empty: the reconciler finds the reset and sends the
    queued work again. RabbitMQ restarted: every connection cut and refused for the
    downtime, its durable queues and persistent messages kept, so the job goes on from
    them and no reset is found (there was none to find)."""
    platform = start_platform()
    platform.add_worker()
    fault = "RabbitMQ connections cut (restart)" if ON_AMQP else "Redis stopped and restarted"
    scenario = chaos.scenario(f"e. {fault}")
    for _ in range(chaos.reps):
        job_id = submit_and_wait_for_progress(platform)
        stopped_at = timezone.now()
        platform.restart_broker(DOWNTIME)
        restarted_at = timezone.now()
        job = wait_for_final(job_id)
        scenario.record(job, seconds_to_finish(job, since=restarted_at))
        assert_counted_once(job, SUBTASKS)
        reset_found = RecoveryEvent.objects.filter(kind="broker_reset", created_at__gt=stopped_at).exists()
        assert reset_found is not ON_AMQP, "a Redis restart loses its messages; a RabbitMQ restart does not"


def test_f_a_message_delivered_again_while_its_subtask_runs_is_not_counted_twice(start_platform, chaos):
    """Redis hands a message out again once it has been unacknowledged past the visibility
    timeout. RabbitMQ has no visibility timeout: it does so when the connection of the
    consumer holding it drops, so there the worker's connections are cut; it reconnects at
    once and gets the messages back, on pool processes left idle for them."""
    # Leases outlast the subtasks, so only the broker's redelivery can run one twice.
    platform = start_platform(LEPTON_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT), LEPTON_LEASE_SECONDS="30")
    n = 2
    first = platform.add_worker(concurrency=2 * n if ON_AMQP else n)
    job_id = platform.submit("diagnostic", subtasks=n, sleep_ms=SURVIVES_A_WORKER_START_MS)
    rows = wait_until(partial(all_running, job_id, n, worker=hostname(first)), 30, "the subtasks never started")
    if ON_AMQP:
        assert platform.amqp.drop_connections_of(first.pid), "the worker had no connection to cut"
        again = first
        fault = "redelivered after its consumer's connection dropped"
    else:
        # Once past the visibility timeout, Redis counts the messages of the running
        # subtasks as lost: a worker starting up restores them to their queue, and takes them.
        running_for = seconds(max(row.started_at for row in rows), timezone.now())
        time.sleep(max(0.0, VISIBILITY_TIMEOUT + 0.5 - running_for))
        again = platform.add_worker()
        assert Job.objects.get(pk=job_id).status == Job.Status.RUNNING, "the second worker started after the job ended"
        fault = "redelivered past the visibility timeout"
    job = wait_for_final(job_id)
    chaos.scenario(f"f. {fault}").record(job)
    assert_counted_once(job, n)
    # Delivered again, and found the subtasks claimed: nothing was run twice.
    assert "event=claim_rejected" in again.log(), "the messages were not delivered again"
    rows = Subtask.objects.filter(job_id=job_id)
    assert [(row.attempt, row.tries, row.worker) for row in rows] == [(1, 1, hostname(first))] * n
    assert not RecoveryEvent.objects.filter(job_id=job_id).exists()

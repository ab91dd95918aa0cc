"""A worker whose heartbeat goes on but which no longer takes work is flagged as stuck.

Its pool processes are frozen with SIGSTOP: the main process keeps beating (it runs the
heartbeat) and holds its one prefetched message, but nothing is ever claimed, while
more messages wait in the broker — what celery #8030 looks like from outside.
"""

import os
import signal
import time

import psutil
import pytest
from celery import current_app
from django.utils import timezone

from jobs.control import cancel_job
from jobs.models import Worker
from jobs.submit import submit_job
from monitoring import stuck
from tests.integration.conftest import wait_for_job

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

#: A queue only the test's worker consumes (the session's worker consumes the others).
QUEUE = "stuckq"
HOSTNAME = "stuckling@lepton-test"


def wait_until(predicate, timeout, poll=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(poll)
    pytest.fail(f"not true after {timeout}s: {predicate.__doc__}")


def signal_pool(worker, signum):
    for child in psutil.Process(worker.pid).children(recursive=True):
        try:
            os.kill(child.pid, signum)
        except ProcessLookupError:
            pass


@pytest.fixture
def lone_worker(platform, settings):
    settings.LEPTON_QUEUES = [*settings.LEPTON_QUEUES, QUEUE]
    settings.LEPTON_STUCK_CONSUMER_SECONDS = 3
    worker = platform.add_worker("stuckling", queues=[QUEUE], concurrency=1)
    try:
        yield worker
    finally:
        signal_pool(worker, signal.SIGCONT)
        platform.services.remove(worker)
        worker.stop()


def test_a_worker_that_stops_consuming_while_it_beats_is_flagged(lone_worker, owner):
    def consuming():
        """the worker reports consuming its queue"""
        return Worker.objects.filter(hostname=HOSTNAME, consuming=[QUEUE]).exists()

    wait_until(consuming, 30)
    signal_pool(lone_worker, signal.SIGSTOP)
    job, _ = submit_job(owner, "diagnostic", {"subtasks": 6}, queue=QUEUE)
    try:
        def flagged():
            """the frozen worker is flagged as a stuck consumer"""
            return HOSTNAME in stuck.stuck_consumers(timezone.now())

        wait_until(flagged, 60)
        seen = Worker.objects.get(hostname=HOSTNAME).last_seen_at
        assert (timezone.now() - seen).total_seconds() < 5, "its heartbeat went on"
        assert "work@lepton-test" not in stuck.stuck_consumers(timezone.now())
    finally:
        cancel_job(job.pk)


def test_a_healthy_worker_on_the_same_queue_is_not_flagged(lone_worker, owner):
    def consuming():
        """the worker reports consuming its queue"""
        return Worker.objects.filter(hostname=HOSTNAME, consuming=[QUEUE]).exists()

    wait_until(consuming, 30)
    time.sleep(3.5)  # past the detection window since it started
    job, _ = submit_job(owner, "diagnostic", {"subtasks": 30, "sleep_ms": 300}, queue=QUEUE)
    try:
        for _ in range(10):
            assert HOSTNAME not in stuck.stuck_consumers(timezone.now())
            time.sleep(0.5)
    finally:
        cancel_job(job.pk)



def test_a_restart_resubscribes_the_worker_to_its_queues_and_it_consumes_again(lone_worker, owner):
    wait_until(lambda: Worker.objects.filter(hostname=HOSTNAME, consuming=[QUEUE]).exists(), 30)

    def answers_remote_control():
        """the worker listens for remote control (a broadcast sent earlier would be lost)"""
        return current_app.control.ping(destination=[HOSTNAME], timeout=1)

    wait_until(answers_remote_control, 30)
    stuck.restart(HOSTNAME)

    def resubscribed():
        """the worker cancelled and re-added its consumer"""
        log = lone_worker.log()
        return f"Canceling queue {QUEUE}" in log and log.count(f"Started consuming from {QUEUE}") >= 1
    wait_until(resubscribed, 30)
    job, _ = submit_job(owner, "diagnostic", {"subtasks": 4}, queue=QUEUE)
    assert wait_for_job(job.pk, timeout=60).status == "succeeded"

"""Workers die mid-work (SIGKILL) or are stopped (SIGTERM); their work moves elsewhere.

a. one pool process killed mid-subtask, b. a whole worker killed mid-job, c. the worker
running the combine step killed, i. a worker stopped gracefully mid-job.
"""

import os
import signal
from functools import partial

import pytest
from django.utils import timezone

from jobs.models import Job, RecoveryEvent, Subtask
from tests.chaos.conftest import (
    RECOVERY_BOUND,
    all_running,
    assert_counted_once,
    hostname,
    rerun_on,
    running_subtasks,
    seconds,
    seconds_to_finish,
    wait_for_final,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

#: Scenario b's target with the default lease (12 s) and reconcile interval (1 s).
WORKER_FAILOVER_TARGET = 15.0
#: Subtasks of scenarios b and i must still be running when their worker is stopped, which
#: is after a second worker has started beside it.
SURVIVES_A_WORKER_START_MS = 12000


def kill_worker(worker):
    """SIGKILL a worker's whole process group (the parent and its pool); when it happened."""
    os.killpg(worker.pid, signal.SIGKILL)
    killed_at = timezone.now()
    worker.process.wait()
    return killed_at


def test_a_a_killed_pool_process_is_replaced_and_its_subtask_runs_again(start_platform, chaos):
    platform = start_platform()
    worker = platform.add_worker()
    scenario = chaos.scenario("a. SIGKILL one pool process")
    n = 4
    for _ in range(chaos.reps):
        job_id = platform.submit("diagnostic", subtasks=n, sleep_ms=2000)
        running = wait_until(partial(running_subtasks, job_id), 30, f"no subtask of job {job_id} started")
        pid = max(running, key=lambda row: row.started_at).worker_pid
        os.kill(pid, signal.SIGKILL)
        killed_at = timezone.now()
        # The process is gone: what its rows say now is what it was running.
        victims = running_subtasks(job_id, worker_pid=pid)
        assert victims, f"process {pid} finished its subtask before the kill"
        reruns = wait_until(partial(rerun_on, victims), RECOVERY_BOUND, "the killed subtask never ran again")
        recovery = seconds(killed_at, max(row.started_at for row in reruns))
        job = wait_for_final(job_id)
        scenario.record(job, recovery)
        assert_counted_once(job, n)
        assert all(row.worker_pid != pid for row in reruns)
    assert worker.alive(), "the worker died with its pool process"


def stop_beside_a_new_worker(platform, current, job_id, n, stop):
    """Once `current` runs all n subtasks of the job, start a new worker beside it and stop
    `current` with stop(current) -> when. Returns (the new worker, the subtasks that were
    running on `current`, when it was stopped)."""
    wait_until(
        partial(all_running, job_id, n, worker=hostname(current)), 30,
        f"job {job_id} never ran {n} subtasks on {hostname(current)}",
    )
    survivor = platform.add_worker()
    victims = running_subtasks(job_id, worker=hostname(current))
    assert len(victims) == n, "the subtasks finished before the worker could be stopped"
    return survivor, victims, stop(current)


def recovery_on(survivor, victims, stopped_at, timeout):
    """Seconds from stopped_at until every victim runs again, under a newer attempt, on survivor."""
    reruns = wait_until(
        lambda: rerun_on(victims, worker=hostname(survivor)), timeout,
        f"the stopped worker's subtasks never ran again on {hostname(survivor)}",
    )
    return seconds(stopped_at, max(row.started_at for row in reruns))


def test_b_a_killed_worker_s_subtasks_run_again_on_a_live_worker(start_platform, chaos):
    # The full run measures failover with the default lease and reconcile interval.
    defaults = {"LEPTON_LEASE_SECONDS": None, "LEPTON_RECONCILE_SECONDS": None}
    platform = start_platform(**(defaults if chaos.full else {}))
    scenario = chaos.scenario("b. SIGKILL a whole worker")
    n = 2
    current = platform.add_worker(concurrency=n)
    for _ in range(chaos.reps):
        # Long enough to be still running once the second worker is up: starting a worker
        # takes several seconds on a loaded 2-core machine (and the CLI's exit over AMQP
        # about 1.6 s more).
        job_id = platform.submit("diagnostic", subtasks=n, sleep_ms=SURVIVES_A_WORKER_START_MS)
        survivor, victims, killed_at = stop_beside_a_new_worker(platform, current, job_id, n, kill_worker)
        recovery = recovery_on(survivor, victims, killed_at, RECOVERY_BOUND)
        job = wait_for_final(job_id)
        scenario.record(job, recovery)
        assert_counted_once(job, n)
        if chaos.full:
            assert recovery < WORKER_FAILOVER_TARGET
        assert RecoveryEvent.objects.filter(job_id=job_id, kind="lease_lapsed").count() == n
        current = survivor


def handed_back(job_id, worker, n):
    """Whether `worker` handed back n subtasks of the job."""
    return RecoveryEvent.objects.filter(job_id=job_id, kind="handed_back", worker=worker).count() == n


def test_i_a_stopped_worker_hands_its_subtasks_back_at_once(start_platform, chaos):
    lease = 60
    # Handed back, not left to lapse: running again long before the lease would lapse.
    bound = lease / 4
    platform = start_platform(LEPTON_LEASE_SECONDS=str(lease), LEPTON_SHUTDOWN_GRACE_SECONDS="1")
    scenario = chaos.scenario("i. SIGTERM (graceful) a worker")
    n = 2
    current = platform.add_worker(concurrency=n)

    def terminate(worker):
        worker.process.send_signal(signal.SIGTERM)
        return timezone.now()

    for _ in range(chaos.reps):
        job_id = platform.submit("diagnostic", subtasks=n, sleep_ms=SURVIVES_A_WORKER_START_MS)
        survivor, victims, stopped_at = stop_beside_a_new_worker(platform, current, job_id, n, terminate)
        wait_until(
            partial(handed_back, job_id, hostname(current), n), bound,
            f"{hostname(current)} did not hand back its subtasks on SIGTERM",
        )
        recovery = recovery_on(survivor, victims, stopped_at, bound)
        current.process.wait(timeout=30)
        job = wait_for_final(job_id)
        scenario.record(job, recovery)
        assert_counted_once(job, n)
        # The interrupted try does not count against the subtask's retries.
        assert list(Subtask.objects.filter(job_id=job_id).values_list("tries", flat=True)) == [1] * n
        current = survivor


def combine_running(job_id):
    """Whether the job's combine step holds its lease: some worker is running it."""
    return Job.objects.filter(pk=job_id, status=Job.Status.FINALIZING, lease_expires_at__isnull=False).exists()


def test_c_a_killed_combine_step_is_run_again_by_another_worker(start_platform, chaos, slow_combine):
    platform = start_platform()
    workers = [platform.add_worker(), platform.add_worker()]
    scenario = chaos.scenario("c. SIGKILL the worker running combine")
    n = 4
    for _ in range(chaos.reps):
        marks = {worker: len(worker.log()) for worker in workers}
        job_id = platform.submit(slow_combine.name, subtasks=n, combine_seconds=3)
        wait_until(partial(combine_running, job_id), 60, f"the combine step of job {job_id} never started")
        combiners = [worker for worker in workers if "event=chaos_combine_started" in worker.log()[marks[worker]:]]
        assert len(combiners) == 1, "expected exactly one worker to be running the combine step"
        killed_at = kill_worker(combiners[0])
        job = wait_for_final(job_id)
        scenario.record(job, seconds_to_finish(job, since=killed_at))
        assert_counted_once(job, n)
        assert RecoveryEvent.objects.filter(job_id=job_id, kind="finalize_resent").exists()
        workers = [worker for worker in workers if worker is not combiners[0]] + [platform.add_worker()]

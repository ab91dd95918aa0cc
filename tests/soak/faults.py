"""The soak's seeded fault scheduler.

Faults come at random intervals (exponential, mean `every` seconds). The first ones are
each kind once, in a seeded order, so even a short soak fires every kind; after that
they are drawn by weight. A fault with nothing to act on (no failed job to retry, no
subtask running to kill) is skipped and another is drawn at the next tick; an opening
kind skipped so goes to the back of the opening, a few times at most.
"""

import os
import signal
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

from jobs.models import Job, Subtask
from tests.soak.stack import LIBFAKETIME

#: Kinds that fire again and again, by weight.
WEIGHTS = {
    "cancel": 3,
    "retry_failed_job": 2,
    "sigkill_pool_process": 2,
    "sigkill_worker": 2,
    "sigterm_worker": 1,
    "redis_flushall": 1,
    "redis_restart": 1,
}
#: Kinds that fire once: a process that joins and stays.
ONCE = ("skewed_clock_worker", "second_control_worker")
#: Times an opening kind with nothing to act on is put back at the end of the opening.
OPENING_DEFERRALS = 3
#: Seconds the broker stays down in a restart.
REDIS_DOWNTIME = 1.0
#: Times one job is retried at most (a permanent fault fails it every time).
MAX_RETRIES_PER_JOB = 2


class FaultScheduler:
    def __init__(self, stack, rng, every):
        self.stack = stack
        self.rng = rng
        self.every = every
        self.fired = Counter()
        self.skipped = Counter()
        #: job id -> when its cancel committed (the soak checks nothing started after).
        self.canceled_at = {}
        self.retried = Counter()
        kinds = [kind for kind in (*WEIGHTS, *ONCE) if kind != "redis_restart" or stack.redis_restartable]
        self._opening = self.rng.sample(kinds, len(kinds))
        self._deferred = Counter()
        self._repeatable = [kind for kind in WEIGHTS if kind in kinds]
        self._next_at = time.monotonic() + self._interval()

    def _interval(self):
        return self.rng.expovariate(1 / self.every)

    def tick(self):
        if time.monotonic() < self._next_at:
            return
        opening = bool(self._opening)
        kind = self._opening.pop(0) if opening else self._weighted()
        if getattr(self, kind)():
            self.fired[kind] += 1
            self._next_at = time.monotonic() + self._interval()
            return
        self.skipped[kind] += 1
        if opening and self._deferred[kind] < OPENING_DEFERRALS:
            self._deferred[kind] += 1
            self._opening.append(kind)

    def _weighted(self):
        return self.rng.choices(self._repeatable, [WEIGHTS[kind] for kind in self._repeatable])[0]

    # --- The faults: each returns whether it acted -----------------------------------

    def cancel(self):
        active = list(Job.objects.filter(status__in=Job.ACTIVE).order_by("pk").values_list("pk", flat=True))
        if not active:
            return False
        job_id = self.rng.choice(active)
        answer = self.stack.frontdoor.request(op="cancel", job=job_id)
        if answer.get("canceled"):
            self.canceled_at[job_id] = datetime.fromisoformat(answer["at"])
        return True

    def retry_failed_job(self):
        failed = [
            pk for pk in Job.objects.filter(status=Job.Status.FAILED).order_by("pk").values_list("pk", flat=True)
            if self.retried[pk] < MAX_RETRIES_PER_JOB
        ]
        if not failed:
            return False
        job_id = self.rng.choice(failed)
        self.retried[job_id] += 1
        self.stack.frontdoor.request(op="retry", job=job_id)
        return True

    def sigkill_pool_process(self):
        groups = {worker.pid for worker in self.stack.services if worker.alive()}
        pids = sorted(
            pid for pid in Subtask.objects.filter(status=Subtask.Status.RUNNING).values_list("worker_pid", flat=True)
            if pid and _group_of(pid) in groups
        )
        if not pids:
            return False
        _signal(os.kill, self.rng.choice(pids), signal.SIGKILL)
        return True

    def _job_worker(self):
        workers = sorted(
            (worker for worker in self.stack.services if worker.alive() and worker.name.startswith(("w", "skew"))),
            key=lambda worker: worker.name,
        )
        return self.rng.choice(workers) if workers else None

    def sigkill_worker(self):
        worker = self._job_worker()
        if worker is None:
            return False
        _signal(os.killpg, worker.pid, signal.SIGKILL)
        worker.process.wait()
        return True

    def sigterm_worker(self):
        """Graceful: the worker finishes within its grace period and hands back the rest;
        the fleet replaces it once it has exited."""
        worker = self._job_worker()
        if worker is None:
            return False
        _signal(os.kill, worker.pid, signal.SIGTERM)
        return True

    def redis_flushall(self):
        with self.stack.redis.client() as client:
            client.flushall() if self.stack.redis_restartable else client.flushdb()
        return True

    def redis_restart(self):
        self.stack.redis.stop()
        time.sleep(REDIS_DOWNTIME)
        self.stack.redis.start()
        return True

    def skewed_clock_worker(self):
        # Without libfaketime the loader ignores the preload: the worker's clock would be
        # true, and the fault would be counted without happening.
        if not Path(LIBFAKETIME).exists():
            return False
        self.stack.in_background(self.stack.add_skewed_worker, "skew1")
        return True

    def second_control_worker(self):
        self.stack.in_background(self.stack.add_control_worker, "control2")
        return True


def _group_of(pid):
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def _signal(send, pid, signum):
    try:
        send(pid, signum)
    except ProcessLookupError:
        pass  # it ended on its own just now

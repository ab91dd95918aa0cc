"""The soak's processes: the chaos suite's platform (Redis, control worker, beat, job
workers) plus what the soak adds: a fleet kept at strength, a worker with a skewed
clock, a second control worker, and the front door process."""

import json
import os
import signal
import subprocess
import sys
import threading

import redis
from django.conf import settings

from tests.chaos.conftest import CHAOS_ENV, Platform
from tests.processes import ROOT, start_worker

#: Every process of the soak: the chaos suite's quick leases and ticks, the built-in job
#: types only.
SOAK_ENV = {
    **{key: value for key, value in CHAOS_ENV.items() if key != "LEPTON_JOB_TYPE_MODULES"},
    # The soak submits `diagnostic` jobs as an ordinary user: open every job type.
    "LEPTON_RESTRICTED_JOB_TYPES": "",
}
#: libfaketime from Debian's `libfaketime` package (`dpkg -L libfaketime`).
LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
#: How far behind the skewed worker's clock runs.
CLOCK_SKEW = "-30s"


class ExternalRedis:
    """A Redis the soak did not start (LEPTON_TEST_REDIS_URL): flushed, never restarted."""

    def __init__(self, url):
        self.url = url

    def client(self):
        return redis.Redis.from_url(self.url)

    def flush(self):
        with self.client() as client:
            client.flushdb()

    def start(self):
        self.flush()

    def stop(self):
        self.flush()


class SoakStack(Platform):
    def __init__(self, env, log_dir, size, redis_url=None):
        super().__init__(env, log_dir)
        #: Only a Redis the soak started can be restarted by it.
        self.redis_restartable = not redis_url
        if redis_url:
            self.redis = ExternalRedis(redis_url)
            self.env["LEPTON_BROKER_URL"] = redis_url
        #: Job workers the fleet is kept at (the skewed one not counted).
        self.size = size
        self.workers = []
        self.frontdoor = None
        self._replacing = 0
        self._starting = 0
        self._lock = threading.Lock()

    def start(self):
        super().start()
        for _ in range(self.size):
            self.workers.append(self.add_worker())
        self.frontdoor = FrontDoor(self.env, self.log_dir)
        return self

    # --- The fleet -----------------------------------------------------------------

    def live_workers(self):
        return [worker for worker in self.workers if worker.alive()]

    def keep_fleet(self):
        """Start replacements for job workers that died or were stopped."""
        with self._lock:
            missing = self.size - len(self.live_workers()) - self._replacing
            self._replacing += max(0, missing)
        for _ in range(missing):
            self.in_background(self._replace)

    def _replace(self):
        try:
            worker = self.add_worker()
            with self._lock:
                self.workers.append(worker)
        finally:
            with self._lock:
                self._replacing -= 1

    def in_background(self, start, *args):
        """Run start(*args) in a thread: a worker takes seconds to be ready, and the soak's
        jobs and faults go on meanwhile. `settled()` says when all such starts are over."""

        def run():
            try:
                start(*args)
            finally:
                with self._lock:
                    self._starting -= 1

        with self._lock:
            self._starting += 1
        threading.Thread(target=run, daemon=True).start()

    def settled(self):
        """Whether no worker is still starting."""
        return self._starting == 0

    def add_skewed_worker(self, name):
        env = {
            **self.env,
            "LD_PRELOAD": LIBFAKETIME,
            "FAKETIME": CLOCK_SKEW,
            # Timeouts and sleeps keep real time; only the wall clock is off.
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        }
        worker = start_worker(name, env, self.log_dir, settings.LEPTON_QUEUES)
        self.services.append(worker)
        return worker

    def add_control_worker(self, name):
        worker = start_worker(name, self.env, self.log_dir, [settings.CONTROL_QUEUE], concurrency=1)
        self.services.append(worker)
        return worker

    def stop(self):
        try:
            if self.frontdoor:
                self.frontdoor.stop()
        finally:
            super().stop()


class FrontDoor:
    """The front door child process (tests/soak/frontdoor.py), one request at a time."""

    def __init__(self, env, log_dir):
        self._stderr = open(log_dir / "frontdoor.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.soak.frontdoor"], cwd=ROOT, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, start_new_session=True,
        )

    def request(self, **request):
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError(f"the front door exited with {self.process.poll()}; see {self._stderr.name}")
        return json.loads(answer)

    def stop(self):
        try:
            self.process.stdin.close()
            self.process.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        finally:
            self._stderr.close()

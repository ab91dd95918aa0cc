"""The chaos suite: real processes, real signals, a real broker flushed and restarted.

Each scenario gets its own broker — an embedded Redis (scenarios flush and restart it),
or on RabbitMQ (LEPTON_TEST_BROKER_URL=amqp://...) a vhost of its own (scenarios
re-create it and cut its connections: Platform.lose_broker_data, restart_broker) — a control
worker and beat (the reconciler) and the workers it needs, all over the pytest-django
test database, and runs jobs whose answer is known. Every repetition checks that

1. the result is right,
2. every subtask was counted exactly once (done == total, failed == 0, every row
   `succeeded`, and a diagnostic result's index_sum == sum(range(n))),
3. the job reached a final state (none stuck), and
4. measures the time to recover, as each scenario defines it.

A table of every scenario (repetitions, lost and double-counted subtasks, recovery
median and max) is printed at the end of the session and written to
$LEPTON_DATA_DIR/chaos/results.json.

Two forms:

- short (the default, part of `make test`): one repetition per scenario and 3 s leases
  (except where a scenario needs its own);
- full (`make chaos`: `--chaos-reps 20`): N repetitions of each fault. Whenever N > 1,
  scenario b (a whole worker killed) runs with the default lease and reconcile interval
  (LEPTON_LEASE_SECONDS 12, LEPTON_RECONCILE_SECONDS 1) and asserts its target of
  recovering in under 15 s; the other scenarios keep short leases to stay quick.

Jobs are submitted through the CLI in a subprocess: this test process never opens a
Celery connection of its own (tests/integration/conftest.py points this process's
Celery app at its session broker, and that must happen before anything connects).
"""

import itertools
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from jobs import registry
from jobs.broker import SENTINEL_KEY
from jobs.models import Job, Subtask
from lepton.embedded_redis import EmbeddedRedis
from tests.brokers import ON_AMQP, TEST_BROKER_URL, AmqpBroker
from tests.processes import ROOT, database_url, running, start_beat, start_worker

CHAOS_JOB_TYPES = "tests.chaos.jobtypes"
CHAOS_USER = "chaos"

#: Settings of every process in a scenario; a scenario overrides some, and None restores
#: the application's default.
CHAOS_ENV = {
    "LEPTON_LEASE_SECONDS": "3",
    "LEPTON_RECONCILE_SECONDS": "0.5",
    "LEPTON_RETRY_BASE_SECONDS": "0.05",
    "LEPTON_RETRY_MAX_SECONDS": "0.5",
    "LEPTON_TASK_EVENTS": "false",
    "LEPTON_WORKER_HEARTBEAT_SECONDS": "1",
    # SIGTERM stops a worker after this grace, handing back what did not finish
    # (scenario i); it also keeps teardown quick.
    "REMAP_SIGTERM": "SIGQUIT",
    "LEPTON_SHUTDOWN_GRACE_SECONDS": "1",
    "LEPTON_JOB_TYPE_MODULES": CHAOS_JOB_TYPES,
    # No canary jobs among the scenario's own (they are counted exactly).
    "LEPTON_CANARY_SECONDS": "0",
}

#: Every wait for a recovery gives up after this: a slower recovery fails its test.
RECOVERY_BOUND = 60.0

RESULTS = pytest.StashKey[dict]()
#: Numbers the scenarios' RabbitMQ vhosts.
_VHOSTS = itertools.count(1)


def pytest_addoption(parser):
    group = parser.getgroup("chaos")
    group.addoption(
        "--chaos-reps", type=int, default=1, metavar="N",
        help="repetitions of each chaos fault; N > 1 is the full run (default leases for scenario b)",
    )


def pytest_collection_modifyitems(config, items):
    # The full run repeats each fault many times: give its tests time in proportion.
    reps = config.getoption("--chaos-reps")
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.timeout(180 + 60 * reps))


# --- Waiting and reading rows ------------------------------------------------------


def wait_until(predicate, timeout, message, interval=0.1):
    """The first truthy value of predicate(), polled until the deadline; fails the test after."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{message} (after {timeout}s)")
        time.sleep(interval)


def running_subtasks(job_id, **filters):
    return list(Subtask.objects.filter(job_id=job_id, status=Subtask.Status.RUNNING, **filters))


def all_running(job_id, n, **filters):
    """The job's running subtasks (those matching filters) once there are n; None before."""
    rows = running_subtasks(job_id, **filters)
    return rows if len(rows) == n else None


def wait_for_final(job_id, timeout=RECOVERY_BOUND):
    """The job once final, or as it is at the deadline (assert_counted_once then fails)."""
    deadline = time.monotonic() + timeout
    while True:
        job = Job.objects.get(pk=job_id)
        if job.is_final or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def rerun_on(victims, worker=None):
    """The victims' rows once each runs (or ran) again under a newer attempt, on `worker` if
    given; None until then."""
    rows = {row.pk: row for row in Subtask.objects.filter(pk__in=[v.pk for v in victims])}
    for victim in victims:
        row = rows[victim.pk]
        if row.attempt <= victim.attempt or row.status not in (Subtask.Status.RUNNING, Subtask.Status.SUCCEEDED):
            return None
        if worker is not None and row.worker != worker:
            return None
    return list(rows.values())


def seconds(start, end):
    return (end - start).total_seconds()


def seconds_to_finish(job, since):
    """Seconds from `since` until the job finished; None if it has not."""
    return seconds(since, job.finished_at) if job.is_final else None


def diagnostic_answer(n):
    return {"subtasks": n, "index_sum": sum(range(n))}


def assert_counted_once(job, n):
    """The job succeeded with its known answer, every one of its n subtasks counted once."""
    rows = Subtask.objects.filter(job_id=job.pk)
    assert job.status == Job.Status.SUCCEEDED, f"job {job.pk} is {job.status}, not succeeded: {job.error}"
    assert job.total == rows.count() == n
    assert sorted(set(rows.values_list("status", flat=True))) == [Subtask.Status.SUCCEEDED]
    assert (job.done, job.failed) == (n, 0)
    assert job.result == diagnostic_answer(n)


def hostname(worker):
    return f"{worker.name}@lepton-test"


# --- A scenario's processes --------------------------------------------------------


class Platform:
    """One scenario's broker, reconciler (a control worker and beat) and job workers.

    `redis` is the scenario's embedded Redis, None on RabbitMQ (where `amqp` is its vhost).
    """

    def __init__(self, env, log_dir):
        # Unix socket paths must stay short: the Redis lives in its own /tmp folder.
        self.run_dir = Path(tempfile.mkdtemp(prefix="lc-", dir="/tmp"))
        self.log_dir = log_dir
        self.redis = self.amqp = None
        if ON_AMQP:
            self.amqp = AmqpBroker(TEST_BROKER_URL, f"lepton-chaos-{os.getpid()}-{next(_VHOSTS)}")
            url = self.amqp.url
        else:
            self.redis = EmbeddedRedis(self.run_dir / "redis.sock", log_dir / "redis.log")
            url = self.redis.url
        self.env = {**env, "LEPTON_BROKER_URL": url}
        self.services = []
        self._numbers = itertools.count(1)

    def start(self):
        if self.redis is not None:
            self.redis.start()
        self.services.append(
            start_worker("control", self.env, self.log_dir, [settings.CONTROL_QUEUE], concurrency=1)
        )
        self.services.append(start_beat(self.env, self.log_dir))
        # The first reconcile sets the broker sentinel: from then on the platform heals.
        wait_until(self.reconciler_ran, 30, f"the reconciler never ran; logs in {self.log_dir}")
        return self

    def reconciler_ran(self):
        if self.amqp is not None:
            return self.amqp.has_queue(SENTINEL_KEY)
        with self.redis.client() as client:
            return client.exists(SENTINEL_KEY)

    def lose_broker_data(self):
        """Every message and queue binding gone: FLUSHALL on Redis; RabbitMQ has no FLUSHALL,
        so there its vhost is deleted and created again, as on a node that lost its data."""
        if self.amqp is not None:
            self.amqp.reset()
            return
        with self.redis.client() as client:
            client.flushall()

    def restart_broker(self, downtime):
        """The broker away for `downtime` seconds, then back. Redis comes back empty (no
        persistence); RabbitMQ keeps its durable queues and persistent messages across a
        restart, so there the restart is its clients' view of one: every connection cut and
        refused for the downtime."""
        if self.amqp is not None:
            self.amqp.drop_connections(downtime)
            return
        self.redis.stop()
        time.sleep(downtime)
        self.redis.start()

    def add_worker(self, concurrency=2):
        """A new job worker (w1, w2, ...) on the job queues, ready when this returns."""
        name = f"w{next(self._numbers)}"
        worker = start_worker(name, self.env, self.log_dir, settings.LEPTON_QUEUES, concurrency)
        self.services.append(worker)
        return worker

    def submit(self, type_name, **params):
        """Submit through the CLI in a subprocess (see the module docstring); the job id."""
        command = [sys.executable, "manage.py", "submit", type_name, "--user", CHAOS_USER]
        for key, value in params.items():
            command += ["--param", f"{key}={value}"]
        done = subprocess.run(command, check=False, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"submit failed:\n{done.stderr}"
        return int(done.stdout.strip())

    def stop(self):
        try:
            # The scenario is over: no need to wait out each worker's shutdown grace.
            for service in self.services:
                if service.alive():
                    os.killpg(service.pid, signal.SIGKILL)
                service.stop()
        finally:
            if self.redis is not None:
                self.redis.stop()
            if self.amqp is not None:
                self.amqp.close()
            shutil.rmtree(self.run_dir, ignore_errors=True)


@pytest.fixture
def start_platform(transactional_db, request):
    """start_platform(**env) starts a scenario's platform; all of it stops after the test.

    Depending on transactional_db, it stops before the test database is flushed. The
    logs stay in $LEPTON_DATA_DIR/chaos/logs/<test name>/ until the test runs again.

    No other stack of this session may still run: its reconciler would heal the
    scenario's jobs too, onto its own broker, and the scenario would measure that.
    """
    if others := running():
        pytest.fail(f"another stack still runs over the test database: {sorted(s.name for s in others)}")
    log_dir = settings.DATA_DIR / "chaos" / "logs" / request.node.name
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    get_user_model().objects.create_user(CHAOS_USER)
    base = {**os.environ, **CHAOS_ENV, "LEPTON_DATABASE_URL": database_url()}
    platforms = []

    def start(**overrides):
        env = {key: value for key, value in {**base, **overrides}.items() if value is not None}
        platform = Platform(env, log_dir)
        platforms.append(platform)
        return platform.start()

    yield start
    for platform in platforms:
        platform.stop()


@pytest.fixture
def slow_combine():
    """The slow-combine job type, in this process's registry for the test only (other tests
    count the registered types); the scenario's processes load it through
    LEPTON_JOB_TYPE_MODULES."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(registry, "_registry", dict(registry._registry))
        registry.load([CHAOS_JOB_TYPES])
        from tests.chaos.jobtypes import SlowCombine

        # Importing registered it the first time; later tests register it again here.
        registry.register(SlowCombine)
        yield registry.get(SlowCombine.name)


# --- Results: repetitions, faults, recovery times ------------------------------------


@dataclass
class Scenario:
    name: str
    reps: int = 0
    lost: int = 0
    double: int = 0
    recoveries: list = field(default_factory=list)

    def record(self, job, recovery=None):
        """Tally one repetition's job; call before asserting on it, so failures are counted."""
        succeeded = Subtask.objects.filter(job_id=job.pk, status=Subtask.Status.SUCCEEDED).count()
        self.reps += 1
        self.lost += job.total - succeeded
        # A done counter ahead of the succeeded rows is a result counted twice.
        self.double += max(0, job.done - succeeded)
        if recovery is not None:
            self.recoveries.append(recovery)
        shown = "-" if recovery is None else f"{recovery:.2f}s"
        print(f"\n[chaos] {self.name} rep {self.reps}: job {job.pk} {job.status}, recovery {shown}")

    def summary(self):
        return {
            "scenario": self.name,
            "reps": self.reps,
            "lost": self.lost,
            "double_counted": self.double,
            "recovery_median_s": round(statistics.median(self.recoveries), 2) if self.recoveries else None,
            "recovery_max_s": round(max(self.recoveries), 2) if self.recoveries else None,
        }


@dataclass
class ChaosRun:
    reps: int
    results: dict

    @property
    def full(self):
        return self.reps > 1

    def scenario(self, name):
        return self.results.setdefault(name, Scenario(name))


@pytest.fixture
def chaos(pytestconfig):
    return ChaosRun(pytestconfig.getoption("--chaos-reps"), pytestconfig.stash.setdefault(RESULTS, {}))


def pytest_terminal_summary(terminalreporter, config):
    results = config.stash.get(RESULTS, {})
    if not results:
        return
    rows = [results[name].summary() for name in sorted(results)]
    header = ("scenario", "reps", "lost", "double-counted", "recovery median s", "max s")
    table = [header] + [
        (
            row["scenario"], str(row["reps"]), str(row["lost"]), str(row["double_counted"]),
            "-" if row["recovery_median_s"] is None else f"{row['recovery_median_s']:.2f}",
            "-" if row["recovery_max_s"] is None else f"{row['recovery_max_s']:.2f}",
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    terminalreporter.write_sep("=", "chaos")
    for line in table:
        terminalreporter.write_line(" | ".join(cell.ljust(width) for cell, width in zip(line, widths)))
    path = settings.DATA_DIR / "chaos" / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"reps": config.getoption("--chaos-reps"), "scenarios": rows}, indent=2))
    terminalreporter.write_line(f"written to {path}")

"""The bench's processes (always all stopped) and the context scenarios get.

One Platform per run: an embedded Redis, a fresh database, Lepton's workers (a job
worker, a control worker and beat, as `make run` has them, with task events off), raw
Celery workers for tests/bench/rawapp.py with the same worker settings, the peer
(tests/bench/peer: its Celery worker and its gunicorn) and a gunicorn for Lepton's web
started on first use by the HTTP scenarios. How scenarios run and time work on them
is in tests/bench/runs.py.
"""

import json
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field

import psutil
from django.conf import settings

from lepton.embedded_redis import EmbeddedRedis
from lepton.run import process_commands
from tests.bench import rawapp
from tests.bench.peer import settings as peer_settings
from tests.bench.report import grid
from tests.processes import ROOT, Service, celery_command, free_port, start_beat, start_worker, wait_until_ready

BENCH_USER = "bench"
#: Lepton's settings the raw app must share (see rawapp's docstring).
SHARED_CELERY_SETTINGS = {
    "broker_transport_options": "CELERY_BROKER_TRANSPORT_OPTIONS",
    "task_serializer": "CELERY_TASK_SERIALIZER",
    "result_serializer": "CELERY_RESULT_SERIALIZER",
    "accept_content": "CELERY_ACCEPT_CONTENT",
    "task_acks_late": "CELERY_TASK_ACKS_LATE",
    "task_reject_on_worker_lost": "CELERY_TASK_REJECT_ON_WORKER_LOST",
    "worker_prefetch_multiplier": "CELERY_WORKER_PREFETCH_MULTIPLIER",
    "worker_send_task_events": "CELERY_WORKER_SEND_TASK_EVENTS",
}
WORKER_CONCURRENCY = 2
READY_TIMEOUT = 60
#: The peer's gunicorn: Lepton's web runs 2 workers of 4 threads (lepton/run.py).
PEER_WEB_THREADS = 4
#: cpu_seconds()'s key for the whole machine's idle CPU seconds (other users' load shows
#: as little idle time beside little use by the bench's own processes).
IDLE = "machine idle"


class Platform:
    def __init__(self, run_dir, env):
        self.run_dir = run_dir
        self.log_dir = run_dir / "log"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.env = env
        self.redis = EmbeddedRedis(run_dir / "redis.sock", self.log_dir / "redis.log")
        self.client = None
        self.services = {}
        self.token = None
        self.web_port = None
        self.peer_port = None

    # --- Start and stop -------------------------------------------------------------

    def start(self):
        _check_raw_settings()
        self.redis.start()
        self.client = self.redis.client()
        self._manage("migrate", "--verbosity", "0")
        self.token = self._manage("lepton_user", BENCH_USER).strip()
        self.start_lepton_worker()
        self.services["control"] = start_worker(
            "control", self.env, self.log_dir, queues=[settings.CONTROL_QUEUE], concurrency=1
        )
        self.services["beat"] = start_beat(self.env, self.log_dir)
        self.start_raw_worker()
        self._peer_manage("migrate", "--verbosity", "0")
        self.start_peer_worker()

    def stop(self):
        try:
            for name in reversed(list(self.services)):
                self.services.pop(name).stop()
        finally:
            if self.client is not None:
                self.client.close()
            self.redis.stop()

    def _manage(self, *args):
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
            capture_output=True, text=True, check=False,
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr}")
        return done.stdout

    def _peer_manage(self, *args):
        done = subprocess.run(
            [sys.executable, "-m", "django", *args], cwd=ROOT, env=self.peer_env,
            capture_output=True, text=True, check=False,
        )
        if done.returncode:
            raise RuntimeError(f"the peer's django-admin {' '.join(args)} failed:\n{done.stderr}")

    @property
    def peer_env(self):
        return {**self.env, "DJANGO_SETTINGS_MODULE": "tests.bench.peer.settings"}

    def _retire(self, name):
        """Stop the service called name, if running, and set its log aside: a successor
        of the same name starts a fresh log (readiness is read from it)."""
        old = self.services.pop(name, None)
        if old is not None:
            old.stop()
            old.log_path.rename(self.log_dir / f"{name}.{time.time_ns()}.log")

    def _replace(self, name, start):
        self._retire(name)
        self.services[name] = start()
        return self.services[name]

    def start_lepton_worker(self, concurrency=WORKER_CONCURRENCY, **env):
        """(Re)start the job worker, with extra environment variables if given."""
        return self._replace(
            "work", lambda: start_worker("work", {**self.env, **env}, self.log_dir, concurrency=concurrency)
        )

    def stop_lepton_worker(self):
        self._retire("work")

    def start_raw_worker(self, concurrency=WORKER_CONCURRENCY):
        command = [
            sys.executable, "-m", "celery", "-A", "tests.bench.rawapp", "worker", "-n", "raw@lepton-bench",
            "-c", str(concurrency), "--loglevel", "INFO", "--without-mingle", "--without-gossip",
        ]
        return self._replace("raw", lambda: wait_until_ready(Service("raw", command, self.env, self.log_dir), READY_TIMEOUT))

    def start_peer_worker(self, concurrency=WORKER_CONCURRENCY):
        command = [
            sys.executable, "-m", "celery", "-A", "tests.bench.peer", "worker", "-n", "peer@lepton-bench",
            "-Q", "peer", "-c", str(concurrency), "--loglevel", "INFO", "--without-mingle", "--without-gossip",
        ]
        return self._replace(
            "peer", lambda: wait_until_ready(Service("peer", command, self.peer_env, self.log_dir), READY_TIMEOUT)
        )

    def start_fleet(self, workers, concurrency):
        """Replace Lepton's job worker and the raw worker with `workers` of each, every one
        with -c concurrency, started side by side (a fleet of workers x concurrency processes)."""
        self.stop_fleet()
        started = []
        for index in range(workers):
            lepton = celery_command(
                "worker", "-n", f"work{index}@lepton-bench", "-c", str(concurrency), "--loglevel", "INFO",
                "--without-mingle", "--without-gossip",
            )
            raw = [
                sys.executable, "-m", "celery", "-A", "tests.bench.rawapp", "worker", "-n", f"raw{index}@lepton-bench",
                "-c", str(concurrency), "--loglevel", "INFO", "--without-mingle", "--without-gossip",
            ]
            for name, command in ((f"work{index}", lepton), (f"raw{index}", raw)):
                self._retire(name)
                self.services[name] = Service(name, command, self.env, self.log_dir)
                started.append(self.services[name])
        for service in started:
            wait_until_ready(service, READY_TIMEOUT * 2)

    def stop_fleet(self):
        """Stop every job worker (Lepton's and raw), fleet or not."""
        for name in [name for name in self.services if name.startswith(("work", "raw"))]:
            self._retire(name)

    def restore_workers(self):
        """Back to the run's usual workers: one Lepton job worker and one raw, -c 2."""
        self.stop_fleet()
        self.start_lepton_worker()
        self.start_raw_worker()

    def web(self):
        """The port of a gunicorn started as `make run` starts it (on first use)."""
        if "web" not in self.services:
            self.web_port = free_port()
            command = process_commands()["web"]
            command[command.index("--bind") + 1] = f"127.0.0.1:{self.web_port}"
            self.services["web"] = Service("web", command, self.env, self.log_dir)
            self._wait_for_web("web", self.web_port, "/api/job-types/")
        return self.web_port

    def peer_web(self):
        """The port of the peer's gunicorn, with Lepton's web worker and thread counts (on first use)."""
        if "peer-web" not in self.services:
            self.peer_port = free_port()
            command = [
                sys.executable, "-m", "gunicorn", "tests.bench.peer.wsgi", "--bind", f"127.0.0.1:{self.peer_port}",
                "--workers", str(settings.LEPTON_WEB_WORKERS), "--threads", str(PEER_WEB_THREADS),
                "--access-logfile", "-", "--no-control-socket",
            ]
            self.services["peer-web"] = Service("peer-web", command, self.peer_env, self.log_dir)
            self._wait_for_web("peer-web", self.peer_port, "/tasks/none/")
        return self.peer_port

    def _wait_for_web(self, name, port, path):
        deadline = time.monotonic() + READY_TIMEOUT
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Token {self.token}"})
        while True:
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    json.load(response)
                    return
            except OSError:
                if not self.services[name].alive() or time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not start:\n{self.services[name].log()[-3000:]}") from None
                time.sleep(0.2)

    # --- What scenarios read --------------------------------------------------------

    def rss(self, name):
        """Resident memory in bytes of a service's process and all its children."""
        parent = psutil.Process(self.services[name].pid)
        return sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)])

    def web_worker_processes(self):
        return psutil.Process(self.services["web"].pid).children()

    def cpu_seconds(self):
        """CPU seconds (user + system) used so far, by service (children included) and
        by Redis, for telling where a run's CPU went."""
        pids = {name: service.pid for name, service in self.services.items()}
        pids["redis"] = self.redis.process.pid
        used = {}
        for name, pid in pids.items():
            try:
                parent = psutil.Process(pid)
                processes = [parent, *parent.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
            used[name] = 0.0
            for process in processes:
                try:
                    times = process.cpu_times()
                except psutil.NoSuchProcess:
                    continue
                used[name] += times.user + times.system
        used["bench"] = sum(psutil.Process().cpu_times()[:2])
        if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
            used["postgres"] = _postgres_cpu_seconds()
        used[IDLE] = psutil.cpu_times().idle
        return used

    def used_memory(self):
        return self.client.info("memory")["used_memory"]

    def queue_depth(self, names):
        """Messages waiting in the named queues, all priority levels together."""
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        keys = [
            f"{name}{options['sep']}{step}" if step else name
            for name in names
            for step in options["priority_steps"]
        ]
        return sum(self.client.llen(key) for key in keys)

    def forget_raw_results(self):
        """Drop the raw baselines' results (Redis database 1), so they do not pile up."""
        rawapp.app.backend.client.flushdb()


def _check_raw_settings():
    differ = [
        key for key, setting in SHARED_CELERY_SETTINGS.items()
        if rawapp.app.conf[key] != getattr(settings, setting)
    ]
    if peer_settings.SQLITE_OPTIONS != settings.SQLITE_OPTIONS:
        differ.append("SQLITE_OPTIONS (tests/bench/peer/settings.py)")
    if differ:
        raise RuntimeError(f"the baselines no longer match Lepton's settings: {', '.join(differ)}")


@dataclass
class Context:
    """What a scenario gets: the platform and how big and how often to measure."""

    platform: Platform
    repeat: int
    quick: bool
    #: The growth tables printed so far, (title, text), for var/bench/ (see cli).
    tables: list = field(default_factory=list)

    def size(self, full, quick):
        return quick if self.quick else full

    def table(self, title, headers, rows):
        """Print a table of figures now and keep it for the run's files."""
        text = grid(headers, rows)
        self.tables.append((title, text))
        print(f"\n  {title}\n" + "\n".join(f"  {line}" for line in text.splitlines()), flush=True)

    def say(self, message):
        print(f"  {message}", flush=True)


def _postgres_cpu_seconds():
    """The local PostgreSQL server's CPU seconds: its postmaster, the backends it has
    reaped (counted as its children's time) and those alive; every database's, so
    measure on an otherwise quiet server. 0 when no server runs on this machine."""
    total = 0.0
    for process in psutil.process_iter(["name", "ppid"]):
        if process.info["name"] != "postgres":
            continue
        try:
            times = process.cpu_times()
            parent_name = psutil.Process(process.info["ppid"]).name()
        except psutil.Error:
            continue
        total += times.user + times.system
        if parent_name != "postgres":  # the postmaster
            total += times.children_user + times.children_system
    return total

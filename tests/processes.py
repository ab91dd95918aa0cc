"""Real processes for integration tests: a Redis, Celery workers and beat.

Each is started in its own process group and stopped (the whole group) by whoever
started it, even when a test fails.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
#: Services this process started and has not stopped yet (see `running`).
_started = set()


def free_port():
    """A TCP port nothing listens on now, for a server a test or the bench starts: fixed
    ports collide when two runs share a machine."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url():
    """The URL of the database the tests are using, for worker processes to open."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    if db["ENGINE"].endswith("postgresql"):
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        host = db["HOST"] or "localhost"
        return f"postgres://{auth}@{host}:{db['PORT'] or 5432}/{db['NAME']}"
    raise RuntimeError(f"no worker URL for database engine {db['ENGINE']}")


class Service:
    """A long-running child process with its log in a file."""

    def __init__(self, name, command, env, log_dir):
        self.name = name
        self.log_path = Path(log_dir) / f"{name}.log"
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
        _started.add(self)

    @property
    def pid(self):
        return self.process.pid

    def log(self):
        return self.log_path.read_text(errors="replace")

    def alive(self):
        return self.process.poll() is None

    def stop(self, timeout=15):
        if self.alive():
            _killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        # Also the prefork children, if the parent left any behind.
        _killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        _started.discard(self)


def running():
    """The services this process started that still run."""
    return [service for service in _started if service.alive()]


def _killpg(pgid, signum):
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


def celery_command(*args):
    return [sys.executable, "-m", "celery", "-A", "lepton", *args]


def start_worker(name, env, log_dir, queues=None, concurrency=2, timeout=30):
    """A worker called name@lepton-test, ready to take tasks when this returns."""
    command = celery_command(
        "worker", "-n", f"{name}@lepton-test", "-c", str(concurrency), "--loglevel", "INFO",
        "--without-mingle", "--without-gossip",
    )
    if queues:
        command += ["-Q", ",".join(queues)]
    return wait_until_ready(Service(name, command, env, log_dir), timeout)


def wait_until_ready(worker, timeout=30):
    """The worker once its log says it is ready; stopped, and an error, if it never does."""
    deadline = time.monotonic() + timeout
    while "ready." not in worker.log():
        if not worker.alive() or time.monotonic() > deadline:
            worker.stop()
            raise RuntimeError(f"worker {worker.name} did not start:\n{worker.log()[-3000:]}")
        time.sleep(0.1)
    return worker


def start_beat(env, log_dir):
    return Service(
        "beat",
        celery_command("beat", "--loglevel", "INFO", "-s", str(Path(log_dir) / "beat-schedule")),
        env,
        log_dir,
    )

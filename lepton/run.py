"""`make run`: the whole platform on one machine, and nothing left behind on exit.

Starts the embedded Redis (unless LEPTON_BROKER_URL names a broker), migrates, creates
an admin on first run, then the web server, the workers, beat and Flower, each in its
own process group with its log under the data folder (rotated by size). Ctrl-C or
SIGTERM stops them all, Redis last, saying what it waits for; a second Ctrl-C stops them
at once. If any of them dies, the rest are stopped too and the exit code says so.
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter

import django

# Before anything is created: the data folder's files (database, logs, beat's schedule,
# credentials) are private to this user, in every process started from here.
os.umask(0o077)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lepton.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import DatabaseError, connections  # noqa: E402

from jobs.models import Subtask  # noqa: E402
from lepton.embedded_redis import EmbeddedRedis  # noqa: E402
from lepton.process_log import ProcessLog  # noqa: E402
from lepton.private_files import private_file, write_private_once  # noqa: E402

#: Seconds a process gets to stop after SIGTERM (workers finish or hand back subtasks).
STOP_GRACE = 20


def process_commands():
    """The long-running processes, by name; docker-compose runs the same commands."""
    python = sys.executable
    celery = [python, "-m", "celery", "-A", "lepton"]
    bind = settings.LEPTON_BIND
    return {
        "web": [
            python, "-m", "gunicorn", "lepton.wsgi",
            "--bind", f"{bind}:{settings.LEPTON_PORT}",
            "--workers", str(settings.LEPTON_WEB_WORKERS),
            "--threads", "4",
            # Slow or silent clients cost a socket, not a thread (lepton/web_worker.py).
            "--worker-class", "lepton.web_worker.WebWorker",
            "--access-logfile", "-",
            # gunicorn's control socket defaults to one path per user: two servers collide.
            "--no-control-socket",
        ],
        "worker": [
            *celery, "worker", "-n", "work@%h", "-Q", ",".join(settings.LEPTON_QUEUES),
            "-c", str(settings.LEPTON_WORKER_CONCURRENCY), "--loglevel", "INFO",
        ],
        "control": [*celery, "worker", "-n", "control@%h", "-Q", settings.CONTROL_QUEUE, "-c", "1", "--loglevel", "INFO"],
        "beat": [*celery, "beat", "--loglevel", "INFO", "-s", settings.CELERY_BEAT_SCHEDULE_FILENAME],
        # Loopback only, whatever LEPTON_BIND says; credentials come in its environment
        # (FLOWER_BASIC_AUTH), not on the command line where `ps` shows them. Read-only:
        # jobs change through admin's audited actions, not by revoking messages.
        "flower": [*celery, "flower", "--address=127.0.0.1", f"--port={settings.LEPTON_FLOWER_PORT}", "--read_only"],
    }


def flower_credentials():
    """(user, password, first_time): from the settings, or generated once into the data folder."""
    user = settings.LEPTON_FLOWER_USER
    if settings.LEPTON_FLOWER_PASSWORD:
        return user, settings.LEPTON_FLOWER_PASSWORD, False
    path = settings.DATA_DIR / "flower-credentials"
    created = write_private_once(path, f"{user}:{secrets.token_urlsafe(18)}\n")
    user, _, password = path.read_text(encoding="utf-8").strip().partition(":")
    return user, password, created


def ensure_admin():
    """On first run, create `admin` with a generated password and say it once."""
    users = get_user_model()
    if users.objects.filter(is_superuser=True).exists():
        return None
    password = secrets.token_urlsafe(12)
    users.objects.create_superuser("admin", password=password)
    return password


class Supervisor:
    def __init__(self, log_dir, max_bytes, backups):
        self.log_dir = log_dir
        self.max_bytes = max_bytes
        self.backups = backups
        self.processes = {}
        self.logs = []

    def start(self, name, command, env):
        """Start `command`; its output goes to <name>.log, rotated by size (lepton.process_log)."""
        log = ProcessLog(private_file(self.log_dir / f"{name}.log"), self.max_bytes, self.backups)
        self.processes[name] = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, start_new_session=True, cwd=settings.BASE_DIR,
        )
        log.follow(self.processes[name].stdout)
        self.logs.append(log)

    def first_exited(self):
        return next(((n, p.returncode) for n, p in self.processes.items() if p.poll() is not None), None)

    def stop_all(self, hurry=lambda: False):
        """SIGTERM every process group, wait up to STOP_GRACE (or until hurry() says stop
        now), then SIGKILL what is left. True if cut short by hurry()."""
        for process in self.processes.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        cut_short = False
        while any(process.poll() is None for process in self.processes.values()):
            if hurry():
                cut_short = True
                break
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        for process in self.processes.values():
            # Also reaps children a process left behind in its group (prefork pool).
            _signal_group(process, signal.SIGKILL)
            process.wait()
        for log in self.logs:
            log.close()
        return cut_short


def stopping_message():
    """What Ctrl-C waits for: the subtasks this host's workers are finishing, and for how long."""
    running = Counter(
        Subtask.objects.filter(status=Subtask.Status.RUNNING, worker__endswith=f"@{socket.gethostname()}")
        .values_list("worker", flat=True)
    )
    if not running:
        return "lepton: stopping…"
    workers, subtasks = len(running), sum(running.values())
    grace = settings.CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT
    return (
        f"lepton: stopping: {_count(workers, 'worker')} finishing {_count(subtasks, 'subtask')}, "
        f"at most {grace:g} s; Ctrl-C again to stop now"
    )


def _count(n, noun):
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _signal_group(process, signum):
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass


def main():
    log_dir = settings.DATA_DIR / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    redis = None
    if settings.USE_EMBEDDED_REDIS:
        redis = EmbeddedRedis(settings.EMBEDDED_REDIS_SOCKET, log_dir / "redis.log")
        if settings.EMBEDDED_REDIS_SOCKET.exists() and _answers(redis):
            sys.exit(f"Another Lepton is already running from {settings.DATA_DIR}.")
        redis.start()
    supervisor = Supervisor(log_dir, settings.LEPTON_LOG_MAX_BYTES, settings.LEPTON_LOG_BACKUPS)
    # One entry per Ctrl-C (or SIGTERM): the first stops gracefully, a second at once.
    stop = []
    signal.signal(signal.SIGINT, lambda *_: stop.append(True))
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    exit_code = 0
    try:
        call_command("migrate", interactive=False, verbosity=0)
        password = ensure_admin()
        connections.close_all()
        # REMAP_SIGTERM: SIGTERM stops a worker after a bounded grace (see jobs.shutdown).
        env = {**os.environ, "LEPTON_BROKER_URL": settings.BROKER_URL, "REMAP_SIGTERM": "SIGQUIT"}
        # Flower never answers its API without a login.
        env.pop("FLOWER_UNAUTHENTICATED_API", None)
        flower_user, flower_password, flower_first_time = flower_credentials()
        flower_env = {"FLOWER_BASIC_AUTH": f"{flower_user}:{flower_password}"}
        for name, command in process_commands().items():
            supervisor.start(name, command, {**env, **flower_env} if name == "flower" else env)
        _announce(password, log_dir, (flower_user, flower_password) if flower_first_time else None)
        while not stop:
            exited = supervisor.first_exited()
            if exited:
                name, code = exited
                print(f"lepton: {name} exited with {code}; stopping everything (see {log_dir / name}.log)", file=sys.stderr)
                exit_code = 1
                break
            time.sleep(0.5)
    finally:
        print(_describe_stop(), file=sys.stderr, flush=True)
        if supervisor.stop_all(hurry=lambda: len(stop) > 1):
            print(
                "lepton: stopped at once; subtasks that were running run again once their lease lapses.",
                file=sys.stderr,
            )
        if redis:
            redis.stop()
        print("lepton: stopped.", file=sys.stderr)
    sys.exit(exit_code)


def _describe_stop():
    try:
        return stopping_message()
    except DatabaseError:
        return "lepton: stopping…"


def _answers(redis):
    try:
        with redis.client() as client:
            return client.ping()
    except Exception:
        return False


def _announce(password, log_dir, new_flower_credentials):
    """On the terminal only: generated passwords never go to a log file."""
    bind = settings.LEPTON_BIND
    lines = [
        "Lepton is running. Ctrl-C stops everything.",
        f"  web    http://{bind}:{settings.LEPTON_PORT}/   (API: /api/, admin: /admin/)",
        f"  flower http://127.0.0.1:{settings.LEPTON_FLOWER_PORT}/   (login: see below or {settings.DATA_DIR / 'flower-credentials'})",
        f"  broker {settings.BROKER_URL}",
        f"  logs   {log_dir}/",
    ]
    if password:
        lines += [
            "",
            f"First run: admin login  admin / {password}",
            "  (shown once; change it with: .venv/bin/python manage.py lepton_user admin --staff --password NEW)",
        ]
    if new_flower_credentials:
        lines += ["", "First run: Flower login  {} / {}".format(*new_flower_credentials)]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()

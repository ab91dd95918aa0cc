"""`make run` (lepton/run.py): its logs rotate, and Ctrl-C says what it waits for.

The Ctrl-C test starts the real launcher on its own ports (8121, 5621) and data folder,
with a long diagnostic job running, and stops every process it started.
"""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from lepton.run import Supervisor
from tests.processes import ROOT

#: Variables that would point the launcher at the suite's database or broker.
SUITE_ONLY = ("LEPTON_DATABASE_URL", "LEPTON_BROKER_URL", "LEPTON_TEST_REDIS_URL", "LEPTON_DATA_DIR")


def test_a_log_past_its_size_limit_rotates(tmp_path):
    supervisor = Supervisor(tmp_path, max_bytes=4096, backups=3)
    chatty = "for i in range(2000): print(f'line {i:05d} ' + 'x' * 40)"
    supervisor.start("chatty", [sys.executable, "-c", chatty], dict(os.environ))
    supervisor.processes["chatty"].wait(timeout=60)
    supervisor.stop_all()

    logs = sorted(path.name for path in tmp_path.glob("chatty.log*"))
    assert logs == ["chatty.log", "chatty.log.1", "chatty.log.2", "chatty.log.3"]
    assert all((tmp_path / name).stat().st_size <= 4096 for name in logs)
    assert (tmp_path / "chatty.log").read_text().splitlines()[-1].startswith("line 01999")
    assert "line 00000" not in "".join((tmp_path / name).read_text() for name in logs)


def processes_started_from(data_dir):
    """PIDs of processes whose environment names this data folder: the launcher's children."""
    marker = f"LEPTON_DATA_DIR={data_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            pytest.fail(f"{what} (after {timeout}s)")
        time.sleep(0.2)
    return value


@pytest.fixture
def launcher():
    """start(**env) runs `python -m lepton.run` in a fresh data folder; everything it
    started is stopped afterwards, even if the test fails."""
    data_dir = Path(tempfile.mkdtemp(prefix="lr-", dir="/tmp"))
    output = data_dir / "output.txt"
    started = []

    def start(**extra):
        env = {key: value for key, value in os.environ.items() if key not in SUITE_ONLY}
        env.update(LEPTON_DATA_DIR=str(data_dir), **extra)
        with open(output, "wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "lepton.run"], cwd=ROOT, env=env,
                stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
            )
        started.append(process)
        return process, env, data_dir, lambda: output.read_text(errors="replace")

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    for pid in processes_started_from(data_dir):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    shutil.rmtree(data_dir, ignore_errors=True)


def running_subtasks(data_dir):
    try:
        with sqlite3.connect(data_dir / "lepton.sqlite3", timeout=5) as db:
            return db.execute("SELECT count(*) FROM jobs_subtask WHERE status = 'running'").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


@pytest.mark.integration
@pytest.mark.timeout(400)
def test_ctrl_c_says_what_it_waits_for_and_a_second_one_stops_at_once(launcher):
    process, env, data_dir, output = launcher(
        LEPTON_PORT="8121", LEPTON_FLOWER_PORT="5621", LEPTON_WEB_WORKERS="1",
        LEPTON_WORKER_CONCURRENCY="2", LEPTON_SHUTDOWN_GRACE_SECONDS="30",
    )
    wait_for(lambda: "Lepton is running" in output(), 120, f"make run did not start:\n{output()}")
    submit = [sys.executable, "manage.py", "submit", "diagnostic", "--param", "subtasks=2", "--param", "sleep_ms=120000"]
    subprocess.run(submit, cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    wait_for(lambda: running_subtasks(data_dir) == 2, 180, "the job's 2 subtasks never ran")

    process.send_signal(signal.SIGINT)
    said = "lepton: stopping: 1 worker finishing 2 subtasks, at most 30 s; Ctrl-C again to stop now"
    wait_for(lambda: said in output(), 30, f"Ctrl-C did not say what it waits for:\n{output()}")
    process.send_signal(signal.SIGINT)

    # Far sooner than the 30 s the workers would otherwise get.
    process.wait(timeout=10)
    assert "lepton: stopped at once" in output()
    assert "lepton: stopped." in output()
    assert processes_started_from(data_dir) == []

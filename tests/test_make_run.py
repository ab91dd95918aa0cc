"""`make run` (lepton/run.py): its logs rotate, and Ctrl-C says what it waits for.

The Ctrl-C test starts the real launcher on its own ports (8121, 5621) and data folder,
with a long diagnostic job running, and stops every process it started.
"""

import os
import signal
import sqlite3
import subprocess
import sys

import pytest

from lepton.run import Supervisor
from tests.launcher import Launcher, wait_for
from tests.processes import ROOT


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


def running_subtasks(data_dir):
    try:
        with sqlite3.connect(data_dir / "lepton.sqlite3", timeout=5) as db:
            return db.execute("SELECT count(*) FROM jobs_subtask WHERE status = 'running'").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


@pytest.mark.integration
@pytest.mark.timeout(400)
def test_ctrl_c_says_what_it_waits_for_and_a_second_one_stops_at_once():
    settings = {
        "LEPTON_PORT": "8121", "LEPTON_FLOWER_PORT": "5621", "LEPTON_WEB_WORKERS": "1",
        "LEPTON_WORKER_CONCURRENCY": "2", "LEPTON_SHUTDOWN_GRACE_SECONDS": "30",
    }
    with Launcher(**settings) as launcher:
        launcher.wait_until_running()
        submit = [sys.executable, "manage.py", "submit", "diagnostic", "--param", "subtasks=2", "--param", "sleep_ms=120000"]
        subprocess.run(submit, cwd=ROOT, env=launcher.env, check=True, capture_output=True, timeout=120)
        wait_for(lambda: running_subtasks(launcher.data_dir) == 2, 180, "the job's 2 subtasks never ran")

        launcher.process.send_signal(signal.SIGINT)
        said = "lepton: stopping: 1 worker finishing 2 subtasks, at most 30 s; Ctrl-C again to stop now"
        wait_for(lambda: said in launcher.output(), 30, f"Ctrl-C did not say what it waits for:\n{launcher.output()}")
        launcher.process.send_signal(signal.SIGINT)

        # Far sooner than the 30 s the workers would otherwise get.
        launcher.process.wait(timeout=10)
        assert "lepton: stopped at once" in launcher.output()
        assert "lepton: stopped." in launcher.output()
        assert launcher.children() == []

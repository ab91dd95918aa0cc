"""`make run`'s launcher (python -m lepton.run) as tests start it: its own data folder
and ports, and every process it started stopped afterwards, even when a test fails."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.processes import ROOT

#: Variables that would point the launcher at the suite's database or broker.
SUITE_ONLY = ("LEPTON_DATABASE_URL", "LEPTON_BROKER_URL", "LEPTON_TEST_REDIS_URL", "LEPTON_DATA_DIR")


class Launcher:
    def __init__(self, **settings):
        # A short path: the embedded Redis's unix socket lives in it.
        self.data_dir = Path(tempfile.mkdtemp(prefix="lr-", dir="/tmp"))
        self.env = {key: value for key, value in os.environ.items() if key not in SUITE_ONLY}
        self.env.update(LEPTON_DATA_DIR=str(self.data_dir), **settings)
        self._output = self.data_dir / "output.txt"
        self.process = None

    def __enter__(self):
        with open(self._output, "wb") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "lepton.run"], cwd=ROOT, env=self.env,
                stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
            )
        return self

    def output(self):
        return self._output.read_text(errors="replace")

    def wait_until_running(self, timeout=120):
        wait_for(lambda: "Lepton is running" in self.output(), timeout, f"make run did not start:\n{self.output()}")
        return self

    def children(self):
        """PIDs of processes whose environment names this data folder: what it started."""
        marker = f"LEPTON_DATA_DIR={self.data_dir}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
        return [pid for pid in found if pid != self.process.pid]

    def __exit__(self, *exc_info):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in self.children():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.data_dir, ignore_errors=True)


def wait_for(predicate, timeout, what):
    """The first truthy value of predicate(); fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            pytest.fail(f"{what} (after {timeout}s)")
        time.sleep(0.2)
    return value

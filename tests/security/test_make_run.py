"""`make run` as a user starts it (issues 9.9 and 9.10): Flower behind a login on
loopback only, the data folder and every file in it private, and the generated
passwords on the terminal only, never in a log file.
"""

import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time

import pytest
import requests

from tests.processes import ROOT

#: The brief's ports for this area: 8140-8149.
WEB_PORT, FLOWER_PORT = 8144, 8145


def _listening(host, port):
    with socket.socket() as probe:
        return probe.connect_ex((host, port)) == 0


def _wait(condition, timeout, what, process, output):
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise RuntimeError(f"make run exited while waiting for {what}:\n{output.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} after {timeout}s:\n{output.read_text()[-3000:]}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def make_run(tmp_path_factory):
    """`python -m lepton.run` in a fresh data folder; stopped (SIGTERM, then its group) after."""
    data_dir = tmp_path_factory.mktemp("mkrun")
    terminal = data_dir.parent / "mkrun-terminal.txt"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEPTON_", "FLOWER_"))}
    env.update(
        LEPTON_DATA_DIR=str(data_dir / "var"), LEPTON_PORT=str(WEB_PORT), LEPTON_FLOWER_PORT=str(FLOWER_PORT),
        LEPTON_WORKER_CONCURRENCY="1", LEPTON_WEB_WORKERS="1",
    )
    with open(terminal, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "lepton.run"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
    try:
        _wait(lambda: "Lepton is running" in terminal.read_text(), 180, "not running", process, terminal)
        _wait(lambda: _listening("127.0.0.1", FLOWER_PORT), 120, "Flower not listening", process, terminal)
        _wait(lambda: list((data_dir / "var").glob("celerybeat-schedule*")), 120, "no beat schedule", process, terminal)
        _wait(lambda: _listening("127.0.0.1", WEB_PORT), 120, "web not listening", process, terminal)
        yield data_dir / "var", terminal
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _flower_credentials(terminal):
    return re.search(r"Flower login  (\S+) / (\S+)", terminal.read_text()).groups()


def test_flower_refuses_requests_without_credentials(make_run):
    for path in ("/", "/workers", "/api/workers", "/api/tasks"):
        assert requests.get(f"http://127.0.0.1:{FLOWER_PORT}{path}", timeout=30).status_code == 401, path
    wrong = requests.get(f"http://127.0.0.1:{FLOWER_PORT}/", auth=("flower", "guess"), timeout=30)
    assert wrong.status_code == 401


def test_flower_answers_with_the_generated_credentials(make_run):
    _, terminal = make_run
    credentials = _flower_credentials(terminal)
    assert requests.get(f"http://127.0.0.1:{FLOWER_PORT}/", auth=credentials, timeout=30).status_code == 200
    assert requests.get(f"http://127.0.0.1:{FLOWER_PORT}/api/workers", auth=credentials, timeout=30).status_code == 200


def _outward_address():
    """This host's address on its default route (a UDP connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_flower_listens_on_loopback_only(make_run):
    address = _outward_address()
    if address is None:
        pytest.skip("this host has no non-loopback IPv4 address to try")
    assert _listening("127.0.0.1", FLOWER_PORT)
    assert not _listening(address, FLOWER_PORT)


def test_the_data_folder_and_every_file_in_it_are_private(make_run):
    data_dir, _ = make_run
    found = {path.name for path in data_dir.rglob("*")}
    # The -wal and -shm files, when they exist at this moment, are checked below with the rest.
    assert {"lepton.sqlite3", "secret-key", "flower-credentials", "log", "web.log", "redis.sock"} <= found
    assert any(name.startswith("celerybeat-schedule") for name in found)

    for path in [data_dir, *data_dir.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert mode & 0o077 == 0, f"{path} is {mode:o}"


def test_generated_passwords_are_on_the_terminal_only(make_run):
    data_dir, terminal = make_run
    admin_password = re.search(r"admin login  admin / (\S+)", terminal.read_text()).group(1)
    _, flower_password = _flower_credentials(terminal)

    for log in (data_dir / "log").glob("*.log"):
        text = log.read_text(errors="replace")
        assert admin_password not in text and flower_password not in text, log.name


def test_flower_lists_the_jobs_messages_but_not_the_control_planes_ticks(make_run):
    data_dir, terminal = make_run
    credentials = _flower_credentials(terminal)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEPTON_")}
    env["LEPTON_DATA_DIR"] = str(data_dir)
    token = subprocess.run(
        [sys.executable, "manage.py", "lepton_user", "flower-test"], cwd=ROOT, env=env,
        capture_output=True, text=True, check=True,
    ).stdout.strip().splitlines()[-1]
    submitted = requests.post(
        f"http://127.0.0.1:{WEB_PORT}/api/jobs/", json={"type": "wordcount", "params": {"texts": ["a b a"]}},
        headers={"Authorization": f"Token {token}"}, timeout=30,
    )
    assert submitted.status_code == 201, submitted.text

    def task_names():
        tasks = requests.get(f"http://127.0.0.1:{FLOWER_PORT}/api/tasks", auth=credentials, timeout=30).json()
        return {task["name"] for task in tasks.values()}

    deadline = time.monotonic() + 120
    while "jobs.tasks.run_subtasks" not in task_names():
        assert time.monotonic() < deadline, f"the job's tasks never reached Flower: {task_names()}"
        time.sleep(1)
    # The reconciler ticked every second all along (beat has been running since start-up).
    assert not {"jobs.tasks.reconcile", "jobs.tasks.review_workers"} & task_names()

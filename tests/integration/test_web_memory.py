"""Peak memory of a web process for the largest request each job type accepts (issue 9.3).

A gunicorn worker started as `make run` starts it (one worker, so its pid is known)
takes each type's largest accepted submission, then the list and the detail of those
jobs. Its peak RSS (VmHWM, reset before each request through /proc/PID/clear_refs) must
stay under WEB_PEAK_RSS_LIMIT, the figure the README documents. The figures are printed.
"""

import json
import random
import time
import urllib.request
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from jobs import tokens
from jobs.jobtypes import primes, stats, wordcount
from lepton.run import process_commands
from tests.integration.conftest import PARKED
from tests.processes import Service, free_port

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

#: The documented ceiling (README, LEPTON_MAX_REQUEST_BYTES) of one web process's RSS.
WEB_PEAK_RSS_LIMIT = 300 * 2**20


def largest_requests():
    """(label, body) of the largest submission each job type accepts, each at the most
    subtasks a job may have (100,000). `diagnostic` is left out: operators only, and its
    request is smaller than `primes`' with as many subtasks."""
    rng = random.Random(9)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    text_length = wordcount.MAX_CHARS // wordcount.MAX_TEXTS
    emoji = "\U0001f600" * (wordcount.MAX_CHARS // wordcount.MAX_TEXTS)  # the costliest characters
    texts = [" ".join(rng.choice(words) for _ in range(text_length))[:text_length] for _ in range(wordcount.MAX_TEXTS)]
    return [
        # Numbers with the longest JSON spelling (-4.0235716017929325e-301): the biggest body.
        ("stats: 500,000 values, 100,000 subtasks", {"type": "stats", "params": {"values": [-rng.random() * 1e-300 for _ in range(stats.MAX_VALUES)], "chunk_size": 5}}),
        ("wordcount: 100,000 texts, 2,000,000 chars, 100,000 subtasks", {"type": "wordcount", "params": {"texts": texts, "chunk_size": 1}}),
        # Text outside the basic plane: 4 bytes a character in the body, 12 as stored JSON.
        ("wordcount: 2,000,000 emoji in 100,000 texts, 10,000 subtasks", {"type": "wordcount", "params": {"texts": [emoji] * wordcount.MAX_TEXTS, "chunk_size": 10}}),
        ("primes: end 10**12, 100,000 subtasks", {"type": "primes", "params": {"start": 0, "end": primes.MAX_END, "chunk_size": primes.MAX_CHUNK}}),
    ]


def worker_pid(master_pid):
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def reset_peak(pid):
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_rss(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


@pytest.fixture
def web(platform_env, parked, settings, tmp_path, capsys):
    """`make run`'s web server with one worker, over the test database and broker;
    (base url, worker pid).

    Its jobs go to a queue no worker consumes: this package's workers, if an earlier test
    started them, would otherwise still be running 300,000 subtasks in transactions when
    the test database is emptied after the test, and could deadlock with its TRUNCATE.
    """
    port = free_port()
    # `make run`'s command; gunicorn takes the last of a repeated option.
    command = [*process_commands()["web"], "--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "300"]
    env = {
        **platform_env,
        "LEPTON_MAX_OUTSTANDING_SUBTASKS_PER_USER": "1000000",
        "LEPTON_QUEUES": ",".join(settings.LEPTON_QUEUES),
        "LEPTON_ROUTES": ",".join(f"{name}={PARKED}" for name in ("stats", "wordcount", "primes")),
    }
    server = Service("web", command, env, tmp_path)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            # An answer, not an open port: gunicorn listens before it forks its worker.
            try:
                urllib.request.urlopen(f"{base}/livez", timeout=1).close()
                break
            except OSError:
                if not server.alive() or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start:\n{server.log()[-3000:]}") from None
                time.sleep(0.2)
        yield base, worker_pid(server.pid)
    finally:
        server.stop()
        with capsys.disabled():
            print(f"\ngunicorn log (tail):\n{server.log()[-1500:]}")


def request(url, token, body=None, method="GET"):
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    with urllib.request.urlopen(urllib.request.Request(url, data, headers, method=method), timeout=300) as response:
        return response.status, response.read()


@pytest.mark.timeout(1800)  # three 100,000-subtask submissions on a shared machine
def test_the_largest_accepted_requests_stay_under_the_documented_peak_rss(web):
    base, pid = web
    user = get_user_model().objects.create_user("heavy")
    token = tokens.issue(user)
    figures = []

    def measured(label, url, body=None):
        reset_peak(pid)
        started = time.monotonic()
        status, content = request(url, token, body, "POST" if body is not None else "GET")
        figures.append((label, peak_rss(pid), time.monotonic() - started, len(content)))
        return status, content

    job_ids = []
    for label, body in largest_requests():
        size = len(json.dumps(body, ensure_ascii=False).encode())
        status, content = measured(f"POST {label} ({size / 2**20:.1f} MiB body)", f"{base}/api/jobs/", body)
        assert status == 201
        job_ids.append(json.loads(content)["id"])
    measured(f"GET /api/jobs/ (those {len(job_ids)} jobs)", f"{base}/api/jobs/")
    for job_id in job_ids:
        measured(f"GET /api/jobs/{job_id}/", f"{base}/api/jobs/{job_id}/")
    measured(f"GET /api/jobs/{job_ids[0]}/params/ (stats)", f"{base}/api/jobs/{job_ids[0]}/params/")

    print("\npeak RSS of the gunicorn worker per request:")
    for label, rss, seconds, response_bytes in figures:
        print(f"  {rss / 2**20:7.1f} MiB  {seconds:6.1f} s  {response_bytes:>9,} B  {label}")
    worst = max(figures, key=lambda figure: figure[1])
    assert worst[1] < WEB_PEAK_RSS_LIMIT, worst

"""What monitoring costs the pipeline (issue 10): the throughput scenario's job with
Prometheus scraping `/metrics` every second against the same job unscraped, alternating
in each repetition. Both run with everything else monitoring does (per-minute snapshots,
alert evaluation, the canary): those are part of the platform the other rows measure too.

Two rows: throughput (wall time; on a shared machine other users' load moves it by more
than 5%), and the CPU seconds all of Lepton's processes (web, workers, control, beat,
Redis) used per subtask, which another user's load hardly moves.

The scraper is a thread of the bench process asking `make run`'s gunicorn, as a
Prometheus on the same host would (loopback, so no token); `/metrics` caches its figures
for LEPTON_METRICS_CACHE_SECONDS, as deployed.
"""

import threading
import time
import urllib.request
from contextlib import contextmanager

from tests.bench.report import Row, median, ratio_at_least, ratio_at_most
from tests.bench.runs import settle, timed_job

SCRAPE_INTERVAL = 1.0
#: The bench's processes that are Lepton's (tests/bench/harness.py names them).
LEPTON_PROCESSES = ("work", "control", "beat", "web", "redis")


def _noop_job(n):
    return "diagnostic", {"subtasks": n, "sleep_ms": 0}


class Scraper:
    """GET /metrics every SCRAPE_INTERVAL seconds until stopped; keeps each answer's time."""

    def __init__(self, port):
        self.url = f"http://127.0.0.1:{port}/metrics"
        self.seconds = []
        self.failures = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="metrics-scraper", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(self.url, timeout=10) as response:
                    response.read()
                self.seconds.append(time.perf_counter() - started)
            except OSError as exc:
                self.failures.append(f"{type(exc).__name__}: {exc}")
            self._stop.wait(max(0.0, SCRAPE_INTERVAL - (time.perf_counter() - started)))


def monitoring_cost(ctx):
    # The largest job (LEPTON_MAX_SUBTASKS_PER_JOB): long enough for dozens of scrapes.
    n = ctx.size(100_000, 20_000)
    port = ctx.platform.web()
    quiet, scraped, quiet_cpu, scraped_cpu, scrape_seconds, failures = [], [], [], [], [], []
    # Unmeasured: the web server's first requests and the database's first growth.
    with Scraper(port):
        timed_job(*_noop_job(n // 4))
    for rep in range(ctx.repeat):
        scraper = Scraper(port)
        # Which run goes first alternates: the second of a pair runs over a bigger database.
        for scrape in (False, True) if rep % 2 == 0 else (True, False):
            settle(ctx.platform)
            if scrape:
                with scraper, cpu_per_subtask(ctx.platform, n, scraped_cpu):
                    scraped.append(n / timed_job(*_noop_job(n)))
            else:
                with cpu_per_subtask(ctx.platform, n, quiet_cpu):
                    quiet.append(n / timed_job(*_noop_job(n)))
        scrape_seconds += scraper.seconds
        failures += scraper.failures
        ctx.say(
            f"rep {rep + 1}: unscraped {quiet[-1]:.0f} subtasks/s, scraped every {SCRAPE_INTERVAL:g} s "
            f"{scraped[-1]:.0f} subtasks/s ({len(scraper.seconds)} scrapes, median "
            f"{median(scraper.seconds) * 1000 if scraper.seconds else float('nan'):.1f} ms); "
            f"CPU per subtask {quiet_cpu[-1]:.2f} ms unscraped, {scraped_cpu[-1]:.2f} ms scraped"
        )
    return [
        Row(
            f"monitoring cost, {n} no-ops", "tasks/s", scraped, quiet, "unscraped", ratio_at_least(0.95),
            note=(
                f"one job of {n} diagnostic subtasks with /metrics scraped every {SCRAPE_INTERVAL:g} s vs "
                "the same job unscraped (snapshots, alerts and the canary run in both); target: at most 5% slower"
            ),
            detail={
                "scrapes": len(scrape_seconds),
                "scrape_ms_median": median(scrape_seconds) * 1000 if scrape_seconds else None,
                "scrape_ms_max": max(scrape_seconds) * 1000 if scrape_seconds else None,
            },
            errors=[f"{len(failures)} scrape(s) failed, first: {failures[0]}"] if failures else [],
        ),
        Row(
            f"monitoring cost, {n} no-ops", "CPU ms/subtask", scraped_cpu, quiet_cpu, "unscraped",
            ratio_at_most(1.05),
            note="CPU time of every Lepton process (web, workers, control, beat, Redis) per subtask, same runs",
        ),
    ]


@contextmanager
def cpu_per_subtask(platform, n, into):
    """Appends to `into` the CPU milliseconds Lepton's processes used per subtask meanwhile."""
    before = platform.cpu_seconds()
    yield
    after = platform.cpu_seconds()
    into.append(sum(after[name] - before.get(name, 0.0) for name in LEPTON_PROCESSES if name in after) * 1000 / n)

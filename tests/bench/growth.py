"""How cost grows with the size of the work (issue 12 §3): job size and backlog.

Job size: one no-op job of 10 to 100,000 subtasks, POSTed to Lepton's API, each
size once (the large sizes are long enough not to need repeating; the small ones are
dominated by fixed costs and shown for the shape). Per size: the POST's time per
subtask, end-to-end throughput, the web worker's peak RSS during the POST and the
database's growth per subtask. Cost per subtask must stay flat: the largest size's
per-subtask figures are compared with those at 1,000 subtasks (a FAIL row above
FLAT_LIMIT, where a quadratic step would show as a ratio of 10 or more).

Backlog: 100 jobs of outstanding no-op subtasks submitted while no job worker runs
(1,000,000 in all; --quick: 10,000), then Redis memory, database size and a
reconciler pass over it, then a job worker started and a new 1-subtask job's time
to first claim with the backlog still in front of it.
"""

import statistics
import threading
import time

from jobs.models import Subtask
from jobs.reconcile import reconcile
from tests.bench.api import ApiClient
from tests.bench.runs import ScenarioError, cancel_active_jobs, database_bytes, settle, submit, wait_for_job
from tests.bench.memory import MB, sample_peak
from tests.bench.report import Row, Target, number

#: Largest job's per-subtask cost / the 1,000-subtask job's: above this it is not flat.
FLAT_LIMIT = 2.0
FLAT_REFERENCE = 1000
BACKLOG_JOBS = 100
RECONCILE_PASSES = 3
CLAIM_TIMEOUT = 300


def _noop(n):
    return "diagnostic", {"subtasks": n, "sleep_ms": 0}


def job_size(ctx):
    sizes = [10, 100, 1000, 10_000, *([] if ctx.quick else [100_000])]
    port = ctx.platform.web()
    # Untimed: the web workers' first job pays their imports and first connections.
    _one_size(ctx.platform, port, 1)
    measured = {}
    for n in sizes:
        settle(ctx.platform)
        measured[n] = _one_size(ctx.platform, port, n)
        m = measured[n]
        ctx.say(
            f"{n:,} subtasks: POST {m['post_s']:.3f} s, done in {m['total_s']:.2f} s, web peak "
            f"{m['web_peak_mb']:.1f} MB, database +{m['db_bytes'] / n:,.0f} B/subtask"
        )
    ctx.table(
        "Job size: one no-op job via the API",
        ["subtasks", "POST us/subtask", "end-to-end subtasks/s", "web peak MB", "DB B/subtask"],
        [
            [f"{n:,}", number(m["post_s"] / n * 1e6), number(n / m["total_s"]), number(m["web_peak_mb"]),
             number(m["db_bytes"] / n)]
            for n, m in measured.items()
        ],
    )
    largest = sizes[-1]
    big, ref = measured[largest], measured[FLAT_REFERENCE]
    per_subtask = {
        "POST time": lambda m, n: m["post_s"] / n,
        "end-to-end time": lambda m, n: m["total_s"] / n,
        "database bytes": lambda m, n: m["db_bytes"] / n,
    }
    return [
        Row(
            f"G1 flat cost: {what} per subtask, {largest:,} vs {FLAT_REFERENCE:,}", "x",
            [cost(big, largest) / cost(ref, FLAT_REFERENCE)], baseline_label="",
            target=Target(f"Lepton <= {FLAT_LIMIT:g}x", lambda row: row.lepton_median <= FLAT_LIMIT),
            note=("per-subtask cost of the largest job over that of the 1,000-subtask job (1.0 = flat); "
                  "the whole table is in var/bench/tables-*.txt") if what == "POST time" else "",
            detail={"sizes": {str(n): m for n, m in measured.items()}} if what == "POST time" else {},
        )
        for what, cost in per_subtask.items()
    ]


def _one_size(platform, port, n):
    """POST one job of n no-ops, sampling the web workers' RSS, then wait for it."""
    workers = platform.web_worker_processes()
    highest = [0]
    done = threading.Event()
    sampler = threading.Thread(target=sample_peak, args=(workers, highest, done))
    db_before = database_bytes()
    api = ApiClient(port, platform.token)
    sampler.start()
    try:
        started = time.perf_counter()
        job = api.submit(*_noop(n))
        posted = time.perf_counter()
    finally:
        done.set()
        sampler.join()
        api.close()
    finished = wait_for_job(job["id"])
    return {
        "post_s": posted - started,
        "total_s": finished - started,
        "web_peak_mb": highest[0] / MB,
        "db_bytes": database_bytes() - db_before,
    }


def backlog(ctx):
    per_job = ctx.size(10_000, 100)
    total = BACKLOG_JOBS * per_job
    platform = ctx.platform
    settle(platform)
    platform.stop_lepton_worker()
    try:
        redis_before, db_before = platform.used_memory(), database_bytes()
        started = time.perf_counter()
        for _ in range(BACKLOG_JOBS):
            submit(*_noop(per_job))
        submit_s = time.perf_counter() - started
        redis_mb = (platform.used_memory() - redis_before) / MB
        db_mb = (database_bytes() - db_before) / MB
        passes = []
        for _ in range(RECONCILE_PASSES):
            pass_started = time.perf_counter()
            reconcile()
            passes.append((time.perf_counter() - pass_started) * 1000)
        ctx.say(
            f"{total:,} subtasks in {BACKLOG_JOBS} jobs submitted in {submit_s:.1f} s; Redis +{redis_mb:.1f} MB, "
            f"database +{db_mb:.1f} MB; reconciler passes {', '.join(f'{p:.0f}' for p in passes)} ms"
        )
        platform.start_lepton_worker()
        claim_ms = _time_to_first_claim()
        ctx.say(f"a new 1-subtask job was claimed {claim_ms:.0f} ms after submit, behind the backlog")
    finally:
        cancel_active_jobs()
        if "work" not in platform.services:
            platform.start_lepton_worker()
    settle(platform)
    reconcile_ms = statistics.median(passes)
    ctx.table(
        f"Backlog: {total:,} outstanding no-op subtasks across {BACKLOG_JOBS} jobs",
        ["submit s", "Redis MB", "DB MB", "DB B/subtask", "reconciler pass ms", "first claim of a new job ms"],
        [[number(submit_s), number(redis_mb), number(db_mb), number(db_mb * MB / total), number(reconcile_ms),
          number(claim_ms)]],
    )
    label = f"G3 backlog {total:,} subtasks / {BACKLOG_JOBS} jobs"
    return [
        Row(f"{label}: Redis memory", "MB", [redis_mb], baseline_label="",
            note="Lepton keeps each job's window in the broker, not the whole backlog"),
        Row(f"{label}: database", "MB", [db_mb], baseline_label=""),
        Row(f"{label}: reconciler pass", "ms", passes, baseline_label="",
            note="jobs.reconcile.reconcile() called in the bench process with the backlog queued"),
        Row(f"{label}: first claim of a new job", "ms", [claim_ms], baseline_label="",
            note="a 1-subtask job submitted once a job worker (-c 2) is working through the backlog"),
    ]


def _time_to_first_claim():
    """Milliseconds from submitting a 1-subtask job until a worker has claimed its subtask."""
    started = time.perf_counter()
    job_id = submit(*_noop(1))
    deadline = time.monotonic() + CLAIM_TIMEOUT
    claimed = Subtask.objects.filter(job_id=job_id, started_at__isnull=False)
    while not claimed.exists():
        if time.monotonic() > deadline:
            raise ScenarioError(f"job {job_id}'s subtask unclaimed after {CLAIM_TIMEOUT}s")
        time.sleep(0.005)
    return (time.perf_counter() - started) * 1000

"""Scenario 5: a `primes` job with one worker process, then two: the parallel speedup.

Raw Celery runs the same chunks (the same count_primes code) as a group, on a raw
worker restarted with the same -c, as the reference for what two processes can give
on this machine.
"""

import time

from celery import group

from jobs.jobtypes.primes import count_primes
from tests.bench import rawapp
from tests.bench.harness import WORKER_CONCURRENCY
from tests.bench.runs import raw_timed, settle, timed_job
from tests.bench.report import Row, median, ratio_at_least


def speedup(ctx):
    """Two workloads: the one the issue names, [0, 5,000,000) — about 12 ms of compute in
    all, so it measures per-job overhead more than parallelism — and one large enough
    (about a second of compute) for two processes to show what they can do."""
    workloads = [
        (ctx.size(5_000_000, 1_000_000), ctx.size(250_000, 50_000)),
        (ctx.size(500_000_000, 100_000_000), 10_000_000),
    ]
    seconds = {}
    try:
        for concurrency in (1, 2):
            ctx.platform.start_lepton_worker(concurrency)
            ctx.platform.start_raw_worker(concurrency)
            for end, size in workloads:
                chunks = _chunks(end, size)
                params = {"start": 0, "end": end, "chunk_size": size}
                # One untimed run each: the first task a fresh pool process runs pays its set-up.
                _raw_primes(ctx.platform, chunks)
                timed_job("primes", params)
                raw, lepton = [], []
                for rep in range(ctx.repeat):
                    settle(ctx.platform)
                    raw.append(_raw_primes(ctx.platform, chunks))
                    settle(ctx.platform)
                    lepton.append(timed_job("primes", params))
                    ctx.say(f"[0, {end:,}) -c {concurrency} rep {rep + 1}: raw {raw[-1]:.3f} s, Lepton {lepton[-1]:.3f} s")
                seconds[(end, concurrency)] = (raw, lepton)
    finally:
        ctx.platform.start_lepton_worker(WORKER_CONCURRENCY)
        ctx.platform.start_raw_worker(WORKER_CONCURRENCY)
    return [_row(end, size, seconds[(end, 1)], seconds[(end, 2)]) for end, size in workloads]


def _chunks(end, size):
    return [(lo, min(lo + size, end)) for lo in range(0, end, size)]


def _row(end, size, one_process, two_processes):
    (raw_1, lepton_1), (raw_2, lepton_2) = one_process, two_processes
    chunks = _chunks(end, size)
    return Row(
        f"5 speedup -c1 -> -c2, primes [0, {end:,})", "x",
        [one / two for one, two in zip(lepton_1, lepton_2)],
        [one / two for one, two in zip(raw_1, raw_2)],
        "raw",
        # Lepton's speedup against raw Celery's on the same machine in the same run (issue 12),
        # less a tenth for the noise of two cores shared with the run's other processes.
        ratio_at_least(0.9),
        note=(
            f"{len(chunks)} chunks of {size:,}; median seconds -c1/-c2: raw {median(raw_1):.3f}/"
            f"{median(raw_2):.3f}, Lepton {median(lepton_1):.3f}/{median(lepton_2):.3f}; all chunks' "
            f"compute alone takes {_compute_seconds(chunks):.3f} s in one process"
        ),
    )


def _raw_primes(platform, chunks):
    return raw_timed(platform, lambda: group(rawapp.count_primes.s(lo, hi) for lo, hi in chunks).apply_async())[0]


def _compute_seconds(chunks):
    """The work itself, with no platform: count_primes over every chunk in this process."""
    started = time.perf_counter()
    for lo, hi in chunks:
        count_primes(lo, hi)
    return time.perf_counter() - started

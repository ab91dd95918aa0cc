"""How throughput grows with the fleet (issue 12 §3): 1, 2, 4 and 8 worker processes.

Each fleet is several workers side by side (1 x -c 1, 1 x -c 2, 2 x -c 2, 4 x -c 2),
for Lepton and, separately, for raw Celery; both run the same no-op job and the same
`primes` chunks. Where the CPU went during Lepton's no-op run (CPU seconds by
process group, from psutil) says what limits it as the fleet grows: the workers'
own Python, Redis, the database (SQLite's single writer shows as workers that wait,
not burn: busy CPU well below the machine's), the control plane or the bench's polling.
"""

from celery import group

from tests.bench import rawapp
from tests.bench.harness import IDLE
from tests.bench.runs import raw_timed, settle, timed_job
from tests.bench.report import Row, median, number

#: (workers, -c each): 1, 2, 4 and 8 processes.
FLEETS = [(1, 1), (1, 2), (2, 2), (4, 2)]
QUICK_FLEETS = [(1, 1), (1, 2), (2, 2)]
#: Repetitions per fleet at most: four fleets, each restarted, keep `make bench` near 15 minutes.
MAX_REPEAT = 2


def fleet(ctx):
    fleets = QUICK_FLEETS if ctx.quick else FLEETS
    noops = ctx.size(3000, 500)
    primes_end, primes_chunk = ctx.size(300_000_000, 50_000_000), 5_000_000
    chunks = [(lo, min(lo + primes_chunk, primes_end)) for lo in range(0, primes_end, primes_chunk)]
    primes_params = {"start": 0, "end": primes_end, "chunk_size": primes_chunk}
    platform = ctx.platform
    figures = {}
    try:
        for workers, concurrency in fleets:
            processes = workers * concurrency
            platform.start_fleet(workers, concurrency)
            # One untimed run each: a fresh pool process's first task pays its set-up.
            timed_job("diagnostic", {"subtasks": processes * 4, "sleep_ms": 0})
            _raw_noops(platform, processes * 4)
            raw_noop, lepton_noop, raw_primes, lepton_primes, cpu = [], [], [], [], []
            for _ in range(min(ctx.repeat, MAX_REPEAT)):
                settle(platform)
                raw_noop.append(noops / _raw_noops(platform, noops))
                settle(platform)
                before = platform.cpu_seconds()
                lepton_noop.append(noops / timed_job("diagnostic", {"subtasks": noops, "sleep_ms": 0}))
                cpu.append(_cpu_share(before, platform.cpu_seconds(), noops / lepton_noop[-1]))
                settle(platform)
                raw_primes.append(_raw_seconds(platform, group(rawapp.count_primes.s(lo, hi) for lo, hi in chunks)))
                settle(platform)
                lepton_primes.append(timed_job("primes", primes_params))
            figures[processes] = {
                "fleet": f"{workers} x -c {concurrency}",
                "raw_noop": raw_noop, "lepton_noop": lepton_noop,
                "raw_primes": raw_primes, "lepton_primes": lepton_primes,
                "cpu": cpu[len(cpu) // 2],
            }
            ctx.say(
                f"{processes} processes ({workers} x -c {concurrency}): no-ops raw {median(raw_noop):.0f}/s, "
                f"Lepton {median(lepton_noop):.0f}/s; primes raw {median(raw_primes):.2f} s, Lepton "
                f"{median(lepton_primes):.2f} s; Lepton no-op run's CPU: {_describe(figures[processes]['cpu'])}"
            )
    finally:
        platform.restore_workers()
    ctx.table(
        f"Fleet size: {noops:,} no-ops and primes [0, {primes_end:,}) in {len(chunks)} chunks",
        ["processes", "fleet", "no-op raw/s", "no-op Lepton/s", "x raw", "primes raw s", "primes Lepton s",
         "x raw", "Lepton no-op run: cores busy (ours), idle (machine), top users"],
        [
            [p, f["fleet"], number(median(f["raw_noop"])), number(median(f["lepton_noop"])),
             number(median(f["lepton_noop"]) / median(f["raw_noop"])), number(median(f["raw_primes"])),
             number(median(f["lepton_primes"])), number(median(f["raw_primes"]) / median(f["lepton_primes"])),
             _describe(f["cpu"])]
            for p, f in figures.items()
        ],
    )
    rows = []
    for processes, f in figures.items():
        rows.append(Row(f"G2 fleet {processes} proc ({f['fleet']}), no-ops", "tasks/s", f["lepton_noop"],
                        f["raw_noop"], "raw group", detail={"cpu": f["cpu"]},
                        note=f"Lepton no-op run's CPU: {_describe(f['cpu'])}" if processes == max(figures) else ""))
        rows.append(Row(f"G2 fleet {processes} proc ({f['fleet']}), primes", "chunks/s",
                        [len(chunks) / s for s in f["lepton_primes"]], [len(chunks) / s for s in f["raw_primes"]],
                        "raw group"))
    return rows


def _raw_noops(platform, n):
    return _raw_seconds(platform, group(rawapp.noop.s(i) for i in range(n)))


def _raw_seconds(platform, canvas):
    return raw_timed(platform, canvas.apply_async)[0]


def _cpu_share(before, after, seconds):
    """Each process group's CPU seconds over the run's wall seconds (1.0 = one core busy);
    a fleet's workers (work0, work1, ...) count as one group."""
    share = {}
    for name in after.keys() & before.keys():
        group_name = name.rstrip("0123456789")
        share[group_name] = share.get(group_name, 0.0) + (after[name] - before[name]) / seconds
    return {name: round(value, 2) for name, value in share.items()}


def _describe(share):
    ours = {name: value for name, value in share.items() if name != IDLE}
    top = sorted(((value, name) for name, value in ours.items() if value >= 0.05), reverse=True)[:4]
    return (
        f"{sum(ours.values()):.2f} cores busy ({share.get(IDLE, 0):.2f} idle); "
        + ", ".join(f"{name} {value:.2f}" for value, name in top)
    )

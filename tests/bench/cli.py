"""The scenario registry and one bench run: start, measure, stop, report."""

import logging
import os
import shutil
import signal
import sys
import time
import traceback
from datetime import datetime

from django.conf import settings

from tests.bench import fairness, fleet, growth, memory, monitoring_cost, pipeline, speedup, web
from tests.bench.harness import Context, Platform
from tests.bench.runs import cancel_active_jobs
from tests.bench.report import Row, machine, table, write_json
from tests.processes import ROOT

#: In the order a full run measures them.
SCENARIOS = {
    "throughput": pipeline.throughput,
    "fanin": pipeline.fanin,
    "chunked": pipeline.chunked,
    "latency": web.latency,
    "speedup": speedup.speedup,
    "worker-memory": memory.worker_memory,
    "web-memory": memory.web_memory,
    "submission": web.submission_rate,
    "monitoring-cost": monitoring_cost.monitoring_cost,
    "f1-small-job": fairness.small_job_under_load,
    "f2-priority": fairness.priority,
    "f3-two-users": fairness.two_users,
    "f4-broker-memory": fairness.broker_memory,
    "job-size": growth.job_size,
    "fleet": fleet.fleet,
    "backlog": growth.backlog,
}
#: Run by name only: the largest job, scraped and not, in pairs, takes about six minutes
#: and answers a question of its own (what monitoring costs), not a target of `make bench`.
BY_NAME_ONLY = {"monitoring-cost"}
GROUPS = {
    "all": [name for name in SCENARIOS if name not in BY_NAME_ONLY],
    "memory": ["worker-memory", "web-memory"],
    "fairness": ["f1-small-job", "f2-priority", "f3-two-users", "f4-broker-memory"],
    "growth": ["job-size", "fleet", "backlog"],
}
RESULTS_DIR = ROOT / "var" / "bench"


def resolve(names):
    """Scenario names in registry order, from scenario and group names (all if none)."""
    wanted = set()
    for name in names or ["all"]:
        if name in GROUPS:
            wanted.update(GROUPS[name])
        elif name in SCENARIOS:
            wanted.add(name)
        else:
            known = ", ".join([*SCENARIOS, *GROUPS])
            raise SystemExit(f"unknown scenario {name!r}; known: {known}")
    return [name for name in SCENARIOS if name in wanted]


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def run(args, run_dir, raised_limits):
    try:
        names = resolve(args.scenarios)
    except SystemExit:
        shutil.rmtree(run_dir)
        raise
    # The bench prints its own progress; the platform's INFO logs would drown it.
    logging.getLogger().setLevel(logging.WARNING)
    # SIGTERM unwinds like Ctrl-C, so every process started below is stopped.
    signal.signal(signal.SIGTERM, _interrupt)
    started_at = datetime.now()
    clock = time.monotonic()
    platform = Platform(run_dir, dict(os.environ))
    ctx = Context(platform, args.repeat, args.quick)
    rows = []
    info = None
    interrupted = False
    try:
        print(f"Lepton bench, {started_at:%Y-%m-%d %H:%M:%S}: starting its processes in {run_dir}", flush=True)
        platform.start()
        info = machine(platform.client, settings.DATABASES["default"]["ENGINE"])
        _print_header(info, args, names, raised_limits)
        for name in names:
            print(f"\n== {name}", flush=True)
            scenario_clock = time.monotonic()
            try:
                rows += SCENARIOS[name](ctx)
            except Exception as exc:
                traceback.print_exc()
                rows.append(Row.error(name, f"{type(exc).__name__}: {exc}"))
                cancel_active_jobs()
            ctx.say(f"{name} took {time.monotonic() - scenario_clock:.0f} s")
    except KeyboardInterrupt:
        interrupted = True
        print("\nInterrupted; stopping everything and reporting what was measured.", file=sys.stderr)
    except Exception as exc:
        # The platform itself did not start or broke outside any scenario.
        traceback.print_exc()
        rows.append(Row.error("platform", f"{type(exc).__name__}: {exc}"))
    finally:
        platform.stop()
    seconds = time.monotonic() - clock
    failed = interrupted or any(row.errors for row in rows)
    print(f"\n{table(rows)}\n\nRun time {seconds / 60:.1f} min.", flush=True)
    path = write_json(
        RESULTS_DIR / f"results-{started_at:%Y%m%d-%H%M%S}.json",
        {
            "started_at": started_at.isoformat(timespec="seconds"),
            "seconds": round(seconds, 1),
            "argv": sys.argv[1:],
            "repeat": args.repeat,
            "quick": args.quick,
            "scenarios": names,
            "interrupted": interrupted,
            "machine": info,
            "raised_limits": raised_limits,
            "rows": [row.as_json() for row in rows],
            "tables": dict(ctx.tables),
        },
    )
    print(f"Results: {path}")
    if ctx.tables:
        tables = path.with_name(f"tables-{started_at:%Y%m%d-%H%M%S}.txt")
        tables.write_text("".join(f"{title}\n{text}\n\n" for title, text in ctx.tables), encoding="utf-8")
        print(f"Tables: {tables}")
    if failed:
        print(f"Logs kept in {platform.log_dir}", file=sys.stderr)
    else:
        shutil.rmtree(run_dir)
    return 1 if failed else 0


def _print_header(info, args, names, raised_limits):
    limits = ", ".join(f"{key}={value}" for key, value in raised_limits.items())
    print(
        f"Machine: nproc {info['nproc']}, {info['cpu']}, Python {info['python']}, Redis {info['redis']}, "
        f"database {info['database']}, load average {' '.join(map(str, info['load_average']))}\n"
        f"Repetitions: {args.repeat}{' (quick sizes)' if args.quick else ''}; scenarios: {', '.join(names)}\n"
        f"Workers: Lepton -c 2 + control -c 1 + beat, raw Celery -c 2, the peer (Django + Celery + "
        f"django-celery-results) -c 2, task events off; raised for every "
        f"process so admission and throttling never refuse: {limits}",
        flush=True,
    )

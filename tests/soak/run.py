"""One soak: start the stack, run jobs under faults, drain, judge, report.

Phases:
1. start: Redis, a control worker, beat, `workers` job workers, the front door;
2. run (`seconds`): jobs are submitted at random intervals while at most `max_active`
   are active, faults fire (tests/soak/faults.py), and killed or stopped workers are
   replaced so the fleet stays alive;
3. drain: no more faults or jobs; the fleet is restored, and every job must be final
   (with no subtask left unfinished) within `drain_seconds`;
4. judge (tests/soak/verdict.py), print the table and write it as JSON.
"""

import json
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from jobs.models import Job
from tests.soak.faults import FaultScheduler
from tests.soak.stack import SoakStack
from tests.soak.verdict import judge, render, unsettled_jobs
from tests.soak.workload import JobStream, new_rng

SOAK_USER = "soak"
#: Seconds between steps of the main loop.
TICK = 0.25


@dataclass(frozen=True)
class SoakConfig:
    seed: int
    seconds: float
    workers: int = 3
    #: Jobs active at once, at most (the soak's admission is stricter than Lepton's).
    max_active: int = 8
    #: Mean seconds between submissions and between faults.
    submit_every: float = 1.5
    fault_every: float = 6.0
    #: How long every job gets to become final once the faults stop.
    drain_seconds: float = 240.0


def run_soak(config, env, log_dir, redis_url=None):
    """The report (a dict, see verdict.render); `report["violations"]` empty when it passed."""
    stack = SoakStack(env, log_dir, config.workers, redis_url)
    try:
        stack.start()
        jobs = JobStream(new_rng(config.seed, "jobs"))
        faults = FaultScheduler(stack, new_rng(config.seed, "faults"), config.fault_every)
        submitted, not_accepted = _run(stack, config, jobs, faults)
        drained_in = _drain(stack, config.drain_seconds)
        summary, violations = judge(faults.canceled_at, log_dir)
    finally:
        stack.stop()
    return {
        "seed": config.seed,
        "minutes": round(config.seconds / 60, 2),
        "config": asdict(config),
        "finished_at": datetime.now(timezone.utc).isoformat(),
        "jobs_submitted": submitted,
        "submissions_not_accepted": dict(not_accepted),
        "faults_fired": dict(faults.fired),
        "faults_skipped": dict(faults.skipped),
        "drained_in_s": drained_in,
        "summary": summary,
        "violations": violations,
        "logs": str(log_dir),
    }


def _run(stack, config, jobs, faults):
    submitted, not_accepted = 0, Counter()
    end = time.monotonic() + config.seconds
    next_submit = time.monotonic()
    while time.monotonic() < end:
        stack.keep_fleet()
        if time.monotonic() >= next_submit and Job.objects.filter(status__in=Job.ACTIVE).count() < config.max_active:
            type_name, params, priority = jobs.next()
            answer = stack.frontdoor.request(op="submit", type=type_name, params=params, priority=priority, user=SOAK_USER)
            if "id" in answer:
                submitted += 1
            else:
                kind, detail = next(iter(answer.items()))
                not_accepted[f"{type_name} {kind}"] += 1
                print(f"[soak] {type_name} {json.dumps(params)[:120]} not accepted: {kind} {str(detail)[:300]}", flush=True)
            next_submit = time.monotonic() + jobs.rng.expovariate(1 / config.submit_every)
        faults.tick()
        time.sleep(TICK)
    return submitted, not_accepted


def _drain(stack, seconds):
    """Seconds until every job settled, or None if some did not within `seconds`."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        stack.keep_fleet()
        if not unsettled_jobs() and stack.settled():
            return round(time.monotonic() - start, 1)
        time.sleep(1)
    # Workers still starting would outlive the stack: give them their start-up time.
    while not stack.settled() and time.monotonic() - start < seconds + 60:
        time.sleep(1)
    return None


def write_report(report, directory):
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"soak-{stamp}-seed{report['seed']}.json"
    path.write_text(json.dumps(report, indent=2, default=str))
    return path


def print_report(report, path):
    print(render(report), flush=True)
    print(f"written to {path}", flush=True)

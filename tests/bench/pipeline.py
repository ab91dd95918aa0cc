"""Scenarios 1-3: many no-op subtasks as one job, fan-in, and a chunked data job.

Each repetition runs raw Celery, the peer (tests/bench/peer), then Lepton, back to
back. Lepton's clock runs from submit_job (validation, split and the inserts
included) until the Job row, polled every 20 ms, says `succeeded`; raw Celery's from
building the canvas until `get()` returns (draining results every 20 ms too: see
runs.POLL); the peer's from its HTTP POST until its status view, polled over HTTP,
says done.
"""

import random
import time

from celery import chord, group

from jobs.jobtypes.stats import MAX_VALUES
from jobs.models import Job
from tests.bench import rawapp
from tests.bench.api import ApiClient
from tests.bench.runs import ScenarioError, peer_timed, raw_timed, settle, submit, timed_job, wait_for_job
from tests.bench.report import Row, median, ratio_at_least

STATS_SEED = 20240501
STATS_CHUNK = 10_000
#: How often a client polls the peer's group view: it reads the group's row and counts
#: its n result rows, so every 20 ms would load the web process the peer's workers share
#: the cores with. Polling this coarsely costs the peer at most this much per run.
PEER_GROUP_POLL = 0.1


def _noop_job(n):
    return "diagnostic", {"subtasks": n, "sleep_ms": 0}


def throughput(ctx):
    n = ctx.size(5000, 1000)
    port = ctx.platform.peer_web()
    raw, peer, lepton = [], [], []
    for rep in range(ctx.repeat):
        settle(ctx.platform)
        seconds, _ = raw_timed(ctx.platform, lambda: group(rawapp.noop.s(i) for i in range(n)).apply_async())
        raw.append(n / seconds)
        settle(ctx.platform)
        peer.append(n / peer_timed(port, "/noops/", {"n": n}, PEER_GROUP_POLL, group=True)[0])
        settle(ctx.platform)
        lepton.append(n / timed_job(*_noop_job(n)))
        ctx.say(
            f"rep {rep + 1}: raw group {raw[-1]:.0f} tasks/s, peer group {peer[-1]:.0f} tasks/s, "
            f"Lepton {lepton[-1]:.0f} subtasks/s"
        )
    return [
        Row(
            f"1 throughput, {n} no-ops", "tasks/s", lepton, raw, "raw group", ratio_at_least(3.0),
            note=f"one Lepton job of {n} diagnostic subtasks (sleep_ms 0) vs a raw group of {n} no-op tasks",
        ),
        Row(
            f"1 throughput, {n} no-ops", "tasks/s", lepton, peer, "peer group", ratio_at_least(1.0),
            note=(
                f"the same Lepton job vs the peer's view sending a group of {n} no-ops, polled over HTTP "
                f"every {PEER_GROUP_POLL * 1000:g} ms until all {n} result rows say SUCCESS"
            ),
        ),
    ]


def fanin(ctx):
    # Smaller than scenario 1: raw Celery's chord carries ~70 tasks/s here, and 5,000 took
    # over five minutes of a run's three repetitions.
    n = ctx.size(2000, 500)
    port = ctx.platform.peer_web()
    raw, peer, lepton = [], [], []
    for rep in range(ctx.repeat):
        settle(ctx.platform)
        seconds, total = raw_timed(
            ctx.platform, lambda: chord(rawapp.noop.s(i) for i in range(n))(rawapp.total.s())
        )
        if total != n * (n - 1) // 2:
            raise ScenarioError(f"raw chord summed to {total}")
        raw.append(n / seconds)
        settle(ctx.platform)
        seconds, state = peer_timed(port, "/noops/", {"n": n, "combine": True})
        if state["result"] != n * (n - 1) // 2:
            raise ScenarioError(f"the peer's chord summed to {state['result']}")
        peer.append(n / seconds)
        settle(ctx.platform)
        lepton.append(n / timed_job(*_noop_job(n)))
        ctx.say(
            f"rep {rep + 1}: raw chord {raw[-1]:.0f} tasks/s, peer chord {peer[-1]:.0f} tasks/s, "
            f"Lepton {lepton[-1]:.0f} subtasks/s"
        )
    return [
        Row(
            f"2 fan-in, {n} no-ops + combine", "tasks/s", lepton, raw, "raw chord", ratio_at_least(3.0),
            note=f"a Lepton no-op job of {n} subtasks (its combine is the fan-in) vs a raw chord with a summing callback",
        ),
        Row(
            f"2 fan-in, {n} no-ops + combine", "tasks/s", lepton, peer, "peer chord", ratio_at_least(1.0),
            note="the same Lepton job vs the peer's view sending that chord (results and chord counter in the database)",
        ),
    ]


def chunked(ctx):
    # Issue 12 names 1,000,000 numbers; the stats job type accepts at most MAX_VALUES
    # (500,000 since issue 9.3), so a full run sends that many.
    n = ctx.size(min(1_000_000, MAX_VALUES), 200_000)
    generator = random.Random(STATS_SEED)
    values = [generator.random() for _ in range(n)]
    chunks = [values[lo : lo + STATS_CHUNK] for lo in range(0, n, STATS_CHUNK)]
    params = {"values": values, "chunk_size": STATS_CHUNK}
    port, peer_port = ctx.platform.web(), ctx.platform.peer_web()
    raw, peer, lepton, lepton_api, submit_seconds = [], [], [], [], []
    for rep in range(ctx.repeat):
        settle(ctx.platform)
        seconds, raw_result = raw_timed(
            ctx.platform,
            lambda: chord(rawapp.chunk_stats.s(chunk) for chunk in chunks)(rawapp.merge_stats.s()),
        )
        raw.append(n / seconds)
        settle(ctx.platform)
        seconds, state = peer_timed(peer_port, "/stats/", params)
        if state["result"]["count"] != n:
            raise ScenarioError(f"the peer counted {state['result']['count']} of {n}")
        peer.append(n / seconds)
        settle(ctx.platform)
        lepton_api.append(n / _api_timed(port, ctx.platform.token, "stats", params))
        settle(ctx.platform)
        started = time.perf_counter()
        job_id = submit("stats", {"values": values, "chunk_size": STATS_CHUNK})
        submit_seconds.append(time.perf_counter() - started)
        lepton.append(n / (wait_for_job(job_id) - started))
        lepton_result = Job.objects.values_list("result", flat=True).get(pk=job_id)
        if raw_result["count"] != n or lepton_result["count"] != n:
            raise ScenarioError(f"counted {raw_result['count']} (raw) and {lepton_result['count']} (Lepton) of {n}")
        ctx.say(
            f"rep {rep + 1}: raw chord {raw[-1]:,.0f} items/s, peer {peer[-1]:,.0f} items/s, Lepton "
            f"{lepton[-1]:,.0f} items/s (its submit_job took {submit_seconds[-1]:.2f} s of "
            f"{n / lepton[-1]:.2f} s), Lepton via its API {lepton_api[-1]:,.0f} items/s"
        )
    return [
        Row(
            f"3 chunked stats, {n:,} numbers", "items/s", lepton, raw, "raw chord", ratio_at_least(1.0),
            note=(
                f"{len(chunks)} chunks of {STATS_CHUNK:,}; Lepton's submit_job (validating the numbers, "
                f"writing the rows) took {median(submit_seconds):.2f} s of {n / median(lepton):.2f} s"
            ),
            detail={"submit_seconds": submit_seconds},
        ),
        Row(
            f"3 chunked stats, {n:,} numbers, via HTTP", "items/s", lepton_api, peer, "peer chord",
            ratio_at_least(1.0),
            note=(
                "both POST the numbers as JSON (Lepton to /api/jobs/, polled in its database; the peer to its "
                "view sending a chord, its callback's result row polled over HTTP every 20 ms)"
            ),
        ),
    ]


def _api_timed(port, token, type_name, params):
    """Seconds from POSTing a job to Lepton's API until its row says succeeded."""
    api = ApiClient(port, token)
    try:
        started = time.perf_counter()
        job = api.submit(type_name, params)
        return wait_for_job(job["id"]) - started
    finally:
        api.close()

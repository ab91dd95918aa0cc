"""Scenarios 4 and 7, through the HTTP API: end-to-end latency and submission rate.

Both talk to a gunicorn started as `make run` starts it. The bench raises the API rate
limit and the per-user active-job limit for every process it starts (see __main__), so
neither throttling nor admission refuses a request here.
"""

import http.client
import threading
import time

from tests.bench import rawapp
from tests.bench.api import ApiClient, ApiError
from tests.bench.runs import settle, wait_for_job
from tests.bench.report import Row, Target, median, percentile, ratio_at_most

#: How often the end of a latency run is looked for, in seconds.
LATENCY_POLL = 0.002
SMALL_JOB = ("diagnostic", {"subtasks": 1})
SUBMIT_CLIENTS = 8


def latency(ctx):
    n = ctx.size(200, 30)
    api = ApiClient(ctx.platform.web(), ctx.platform.token)
    peer_api = ApiClient(ctx.platform.peer_web(), None)
    raw_p50, raw_p95, lepton_p50, lepton_p95, post_p50 = [], [], [], [], []
    peer_p50, peer_p95, http_p50, http_p95 = [], [], [], []
    try:
        for rep in range(ctx.repeat):
            settle(ctx.platform)
            raw = []
            for index in range(n):
                started = time.perf_counter()
                rawapp.noop.apply_async((index,)).get(timeout=60)
                raw.append((time.perf_counter() - started) * 1000)
            ctx.platform.forget_raw_results()
            settle(ctx.platform)
            lepton, posts = [], []
            for _ in range(n):
                started = time.perf_counter()
                job = api.submit(*SMALL_JOB)
                posts.append((time.perf_counter() - started) * 1000)
                lepton.append((wait_for_job(job["id"], LATENCY_POLL) - started) * 1000)
            raw_p50.append(median(raw))
            raw_p95.append(percentile(raw, 95))
            lepton_p50.append(median(lepton))
            lepton_p95.append(percentile(lepton, 95))
            post_p50.append(median(posts))
            settle(ctx.platform)
            peer = [_http_round_trip(peer_api, "/tasks/", {"index": index}, _peer_done) for index in range(n)]
            settle(ctx.platform)
            http = [_http_round_trip(api, "/api/jobs/", {"type": SMALL_JOB[0], "params": SMALL_JOB[1]}, _lepton_done)
                    for _ in range(n)]
            peer_p50.append(median(peer))
            peer_p95.append(percentile(peer, 95))
            http_p50.append(median(http))
            http_p95.append(percentile(http, 95))
            ctx.say(
                f"rep {rep + 1}: raw p50 {raw_p50[-1]:.1f} ms p95 {raw_p95[-1]:.1f} ms; Lepton p50 "
                f"{lepton_p50[-1]:.1f} ms p95 {lepton_p95[-1]:.1f} ms (of which POST p50 {post_p50[-1]:.1f} ms); "
                f"over HTTP both ways: peer p50 {peer_p50[-1]:.1f} ms p95 {peer_p95[-1]:.1f} ms, Lepton p50 "
                f"{http_p50[-1]:.1f} ms p95 {http_p95[-1]:.1f} ms"
            )
    finally:
        api.close()
        peer_api.close()
    how = (
        f"{n} sequential 1-subtask jobs: HTTP POST, then the Job row polled in the database every "
        f"{LATENCY_POLL * 1000:g} ms (polling over HTTP would load the 2 web workers); raw: apply_async().get()"
    )
    return [
        Row(f"4 latency p50, {n} jobs", "ms", lepton_p50, raw_p50, "raw", ratio_at_most(3.0), note=how,
            detail={"post_p50_ms": post_p50}),
        Row(f"4 latency p95, {n} jobs", "ms", lepton_p95, raw_p95, "raw",
            note=f"the POST alone took {median(post_p50):.1f} ms at p50"),
        Row(f"4 latency p50 over HTTP, {n} jobs", "ms", http_p50, peer_p50, "peer", ratio_at_most(1.0),
            note=(
                f"both driven as their users drive them: POST, then GET the status every {LATENCY_POLL * 1000:g} ms "
                "on the same keep-alive connection (Lepton: /api/jobs/<id>/; the peer: its TaskResult row)"
            )),
        Row(f"4 latency p95 over HTTP, {n} jobs", "ms", http_p95, peer_p95, "peer"),
    ]


def _http_round_trip(api, path, body, done):
    """Milliseconds from POSTing body to path until done(the status GET's JSON) is true."""
    started = time.perf_counter()
    status, created = api.request("POST", path, body)
    if status != 201:
        raise ApiError(f"POST {path} answered {status}: {str(created)[:300]}")
    where = f"{path}{created['id']}/"
    deadline = time.monotonic() + 60
    while True:
        status, state = api.request("GET", where)
        if status != 200:
            raise ApiError(f"GET {where} answered {status}: {str(state)[:300]}")
        if done(state):
            return (time.perf_counter() - started) * 1000
        if time.monotonic() > deadline:
            raise ApiError(f"{where} unfinished after 60 s: {str(state)[:300]}")
        time.sleep(LATENCY_POLL)


def _peer_done(state):
    if state["status"] == "FAILURE":
        raise ApiError(f"the peer's task failed: {state}")
    return state["status"] == "SUCCESS"


def _lepton_done(state):
    if state["status"] in ("failed", "canceled"):
        raise ApiError(f"the Lepton job ended {state['status']}: {str(state)[:300]}")
    return state["status"] == "succeeded"


def submission_rate(ctx):
    seconds = ctx.size(10, 3)
    port = ctx.platform.web()
    rates, errors = [], []
    for rep in range(ctx.repeat):
        settle(ctx.platform)
        accepted, failures, elapsed = _submit_for(port, ctx.platform.token, seconds)
        rates.append(accepted / elapsed)
        errors += failures
        ctx.say(f"rep {rep + 1}: {accepted} jobs in {elapsed:.1f} s = {rates[-1]:.1f} jobs/s, {len(failures)} errors")
    # Let the workers finish what was submitted before the next scenario starts.
    settle(ctx.platform)
    return [
        Row(
            f"7 submission rate, {SUBMIT_CLIENTS} clients", "jobs/s", rates, baseline_label="",
            target=Target("0 errors", lambda row: not row.detail["errors"]),
            note=(
                f"{SUBMIT_CLIENTS} threads, each a keep-alive connection POSTing 1-subtask diagnostic jobs "
                f"for {seconds} s; {len(errors)} errors; admission and API rate limits raised"
            ),
            detail={"errors": len(errors)},
            errors=[f"{len(errors)} failed submissions; first: {errors[0]}"] if errors else [],
        )
    ]


def _submit_for(port, token, seconds):
    """(jobs accepted, error messages, seconds) from SUBMIT_CLIENTS threads POSTing for `seconds`."""
    results = [None] * SUBMIT_CLIENTS
    started = time.perf_counter()
    deadline = started + seconds
    threads = [
        threading.Thread(target=_client, args=(port, token, deadline, results, index))
        for index in range(SUBMIT_CLIENTS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return sum(ok for ok, _ in results), [e for _, errors in results for e in errors], elapsed


def _client(port, token, deadline, results, index):
    api = ApiClient(port, token)
    accepted, errors = 0, []
    try:
        while time.perf_counter() < deadline:
            try:
                api.submit(*SMALL_JOB)
                accepted += 1
            except (ApiError, OSError, http.client.HTTPException) as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                api.close()  # the next request opens a new connection
    finally:
        api.close()
        results[index] = (accepted, errors)

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
from tests.bench.harness import settle, wait_for_job
from tests.bench.report import Row, Target, median, percentile, ratio_at_most

#: How often the end of a latency run is looked for, in seconds.
LATENCY_POLL = 0.002
SMALL_JOB = ("diagnostic", {"subtasks": 1})
SUBMIT_CLIENTS = 8


def latency(ctx):
    n = ctx.size(200, 30)
    api = ApiClient(ctx.platform.web(), ctx.platform.token)
    raw_p50, raw_p95, lepton_p50, lepton_p95, post_p50 = [], [], [], [], []
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
            ctx.say(
                f"rep {rep + 1}: raw p50 {raw_p50[-1]:.1f} ms p95 {raw_p95[-1]:.1f} ms; Lepton p50 "
                f"{lepton_p50[-1]:.1f} ms p95 {lepton_p95[-1]:.1f} ms (of which POST p50 {post_p50[-1]:.1f} ms)"
            )
    finally:
        api.close()
    how = (
        f"{n} sequential 1-subtask jobs: HTTP POST, then the Job row polled in the database every "
        f"{LATENCY_POLL * 1000:g} ms (polling over HTTP would load the 2 web workers); raw: apply_async().get()"
    )
    return [
        Row(f"4 latency p50, {n} jobs", "ms", lepton_p50, raw_p50, "raw", ratio_at_most(4.0), note=how,
            detail={"post_p50_ms": post_p50}),
        Row(f"4 latency p95, {n} jobs", "ms", lepton_p95, raw_p95, "raw",
            note=f"the POST alone took {median(post_p50):.1f} ms at p50"),
    ]


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

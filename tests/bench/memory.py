"""Scenario 6: memory of the job worker over many subtasks, and of a web worker taking a big job.

Worker RSS is the parent's plus its pool processes', measured after a warm-up job (so
imports and first connections are not counted as growth) and again after the run.
"""

import threading
import time

from tests.bench.api import ApiClient
from tests.bench.runs import cancel_active_jobs, settle, submit, wait_for_job
from tests.bench.report import Row, lepton_at_most

MB = 1024 * 1024
JOB_SIZE = 5000
WEB_SAMPLE_SECONDS = 0.005


def worker_memory(ctx):
    total = ctx.size(100_000, 10_000)
    jobs = total // JOB_SIZE
    growth, detail = [], []
    for rep in range(ctx.repeat):
        settle(ctx.platform)
        wait_for_job(submit("diagnostic", {"subtasks": JOB_SIZE}))
        before = ctx.platform.rss("work")
        trend = []
        for _ in range(jobs):
            wait_for_job(submit("diagnostic", {"subtasks": JOB_SIZE}))
            trend.append(round(ctx.platform.rss("work") / MB, 1))
        after = ctx.platform.rss("work")
        growth.append((after - before) / before * 100)
        detail.append({"before_mb": before / MB, "after_mb": after / MB, "after_each_job_mb": trend})
        ctx.say(
            f"rep {rep + 1}: {before / MB:.1f} MB -> {after / MB:.1f} MB ({growth[-1]:+.1f}%); "
            f"MB after each job: {trend}"
        )
    return [
        Row(
            f"6 worker RSS growth, {total:,} no-ops", "%", growth, baseline_label="",
            target=lepton_at_most(10, "%"),
            note=(
                f"job worker parent + pool processes; {jobs} jobs of {JOB_SIZE} after a warm-up job; MB: "
                + ", ".join(f"{d['before_mb']:.1f} -> {d['after_mb']:.1f}" for d in detail)
            ),
            detail={"repetitions": detail},
        )
    ]


def web_memory(ctx):
    subtasks = ctx.size(10_000, 2_000)
    port = ctx.platform.web()
    before, peak = [], []
    for rep in range(ctx.repeat):
        settle(ctx.platform)
        workers = ctx.platform.web_worker_processes()
        before.append(max(p.memory_info().rss for p in workers) / MB)
        highest = [0]
        done = threading.Event()
        sampler = threading.Thread(target=sample_peak, args=(workers, highest, done))
        sampler.start()
        api = ApiClient(port, ctx.platform.token)
        try:
            api.submit("diagnostic", {"subtasks": subtasks})
        finally:
            done.set()
            sampler.join()
            api.close()
        peak.append(highest[0] / MB)
        # Its subtasks are not the point here.
        cancel_active_jobs()
        ctx.say(f"rep {rep + 1}: web worker {before[-1]:.1f} MB before, peak {peak[-1]:.1f} MB")
    return [
        Row(
            f"6 web worker peak RSS, 1 job of {subtasks:,} via API", "MB", peak, before, "before",
            note="the largest gunicorn worker's RSS before the POST and its peak during it (sampled every 5 ms)",
        )
    ]


def sample_peak(processes, highest, done):
    while not done.is_set():
        highest[0] = max(highest[0], *(p.memory_info().rss for p in processes))
        time.sleep(WEB_SAMPLE_SECONDS)

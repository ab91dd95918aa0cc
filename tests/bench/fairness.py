"""Fairness scenarios F1-F4: small jobs behind big ones, priorities, two users, broker memory."""

import threading
import time

from django.conf import settings
from django.db import connection
from django.db.models import Max, Min
from django.test import override_settings

from jobs.control import cancel_job
from jobs.models import Job, Priority, Subtask
from tests.bench.harness import WORKER_CONCURRENCY
from tests.bench.runs import ScenarioError, bench_user, settle, submit, timed_job, wait_for_job
from tests.bench.report import Row, Target, median, ratio_at_least, ratio_at_most

SMALL = ("diagnostic", {"subtasks": 1})
#: How often a small job's end is looked for, in seconds.
SMALL_POLL = 0.002
#: A window larger than any job here: every subtask goes to the broker at submit (plain FIFO).
WINDOW_OFF = 100_000
#: Subtasks of the big job that must be done before the small one is submitted.
LOAD_STARTED = 50
BROKER_SAMPLE_SECONDS = 3.0
#: The idle level is the median over this long, not one sample: used_memory jitters by a
#: few KB as clients' buffers come and go.
IDLE_SAMPLE_SECONDS = 0.5


def _load(subtasks):
    return "diagnostic", {"subtasks": subtasks, "sleep_ms": 2}


def small_job_under_load(ctx):
    """F1: a 1-subtask job's latency while a big job runs, with the window on and off."""
    load = ctx.size(5000, 1000)
    idle, loaded, depths = _latency_under_load(ctx, load)
    rows = [
        Row(
            f"F1 1-subtask job behind a {load}-subtask job", "ms", loaded, idle, "idle",
            Target("< 1000 ms and ratio <= 10", lambda row: row.lepton_median < 1000 and row.ratio <= 10),
            note=(
                f"latency submit -> succeeded while a {load}-subtask job (sleep_ms 2) runs, vs on an idle "
                f"platform; messages ahead of it in the broker: {depths}"
            ),
            detail={"broker_depth_at_submit": depths},
        )
    ]
    ctx.say(f"window off: restarting the job worker with LEPTON_JOB_WINDOW={WINDOW_OFF}")
    ctx.platform.start_lepton_worker(LEPTON_JOB_WINDOW=str(WINDOW_OFF))
    try:
        with override_settings(LEPTON_JOB_WINDOW=WINDOW_OFF):
            # Once: each try waits out the whole backlog (~30 s), and the row only compares.
            idle, loaded, depths = _latency_under_load(ctx, load, repeat=1)
    finally:
        ctx.platform.start_lepton_worker()
    rows.append(
        Row(
            "F1 same, window off (FIFO), for comparison", "ms", loaded, idle, "idle",
            note=(
                f"LEPTON_JOB_WINDOW={WINDOW_OFF} in the bench process and the job worker, one repetition; "
                f"messages ahead of it in the broker: {depths}"
            ),
            detail={"broker_depth_at_submit": depths},
        )
    )
    return rows


def _latency_under_load(ctx, load, repeat=None):
    """(idle latencies, loaded latencies, broker depths when the small job was submitted),
    over `repeat` repetitions (the run's by default)."""
    idle, loaded, depths = [], [], []
    for rep in range(repeat or ctx.repeat):
        settle(ctx.platform)
        idle.append(timed_job(*SMALL, poll=SMALL_POLL) * 1000)
        big = submit(*_load(load))
        _wait_for_progress(big, LOAD_STARTED)
        depths.append(ctx.platform.queue_depth(settings.LEPTON_QUEUES))
        loaded.append(timed_job(*SMALL, poll=SMALL_POLL) * 1000)
        cancel_job(big)
        ctx.say(
            f"rep {rep + 1}: idle {idle[-1]:.0f} ms, behind the big job {loaded[-1]:.0f} ms "
            f"({depths[-1]} messages ahead of it)"
        )
    return idle, loaded, depths


def _wait_for_progress(job_id, done, timeout=120):
    deadline = time.monotonic() + timeout
    while Job.objects.values_list("done", flat=True).get(pk=job_id) < done:
        if time.monotonic() > deadline:
            raise ScenarioError(f"job {job_id} did not reach {done} done subtasks in {timeout}s")
        time.sleep(0.01)


def priority(ctx):
    """F2: a high-priority job submitted behind many normal ones must start first."""
    n = ctx.size(200, 50)
    ranks = []
    for rep in range(ctx.repeat):
        settle(ctx.platform)
        ctx.platform.stop_lepton_worker()
        try:
            normal = [submit(*SMALL) for _ in range(n)]
            high = submit(*SMALL, priority=Priority.HIGH)
        finally:
            ctx.platform.start_lepton_worker()
        for job_id in [*normal, high]:
            wait_for_job(job_id)
        order = list(
            Job.objects.filter(pk__in=[*normal, high]).order_by("started_at", "pk").values_list("pk", flat=True)
        )
        ranks.append(order.index(high) + 1)
        ctx.say(f"rep {rep + 1}: the high-priority job started {ranks[-1]} of {n + 1}")
    return [
        Row(
            f"F2 high job behind {n} normal: start rank", f"rank/{n + 1}", ranks, baseline_label="",
            # The pool takes WORKER_CONCURRENCY messages at once, highest priority first;
            # which of those processes claims first is a race of milliseconds.
            target=Target(
                f"rank <= {WORKER_CONCURRENCY} every time", lambda row: max(row.lepton) <= WORKER_CONCURRENCY
            ),
            note=(
                f"{n} normal 1-subtask jobs then 1 high, submitted while the job worker was stopped; "
                f"the worker then starts {WORKER_CONCURRENCY} jobs at once"
            ),
        )
    ]


def two_users(ctx):
    """F3: two users' big jobs submitted together progress at about the same rate."""
    n = ctx.size(2000, 500)
    owners = [bench_user("bench-a"), bench_user("bench-b")]
    rates = ([], [])
    balance = []
    for rep in range(ctx.repeat):
        settle(ctx.platform)
        job_ids = _submit_together(owners, _load(n))
        for job_id in job_ids:
            wait_for_job(job_id)
        for mine, rate in zip(rates, _overlap_rates(job_ids)):
            mine.append(rate)
        balance.append(min(rates[0][-1], rates[1][-1]) / max(rates[0][-1], rates[1][-1]))
        ctx.say(
            f"rep {rep + 1}: user A {rates[0][-1]:.0f}/s, user B {rates[1][-1]:.0f}/s, "
            f"slower/faster {balance[-1]:.2f}"
        )
    return [
        Row(
            f"F3 two users' {n}-subtask jobs (A | B)", "subtasks/s", rates[1], rates[0], "user A",
            ratio_at_least(0.8),
            ratio=median(balance),
            note="throughput of each job over the period both ran; ratio is slower/faster (median of repetitions)",
        )
    ]


def _submit_together(owners, job):
    job_ids = [None] * len(owners)
    failures = []

    def submit_as(index, owner):
        try:
            job_ids[index] = submit(*job, owner=owner)
        except Exception as exc:  # re-raised below, in the scenario's thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit_as, args=(i, owner)) for i, owner in enumerate(owners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return job_ids


def _overlap_rates(job_ids):
    spans = [
        Subtask.objects.filter(job_id=job_id).aggregate(start=Min("started_at"), end=Max("finished_at"))
        for job_id in job_ids
    ]
    start = max(span["start"] for span in spans)
    end = min(span["end"] for span in spans)
    if end <= start:
        raise ScenarioError(f"jobs {job_ids} did not run at the same time")
    seconds = (end - start).total_seconds()
    return [
        Subtask.objects.filter(job_id=job_id, finished_at__gt=start, finished_at__lte=end).count() / seconds
        for job_id in job_ids
    ]


def broker_memory(ctx):
    """F4: Redis memory while a huge job runs is about that of a small one (the window)."""
    big = ctx.size(100_000, 20_000)
    small = 1000
    # The first publish from this process opens its broker connection: not a job's cost.
    wait_for_job(submit(*SMALL))
    small_kb, big_kb = [], []
    for rep in range(ctx.repeat):
        small_kb.append(_broker_peak(ctx, small) / 1024)
        big_kb.append(_broker_peak(ctx, big) / 1024)
        ctx.say(
            f"rep {rep + 1}: Redis used_memory above idle: {small} subtasks {small_kb[-1]:.1f} KB, "
            f"{big:,} subtasks {big_kb[-1]:.1f} KB"
        )
    return [
        Row(
            f"F4 broker memory, {big:,} vs {small} subtasks", "KB", big_kb, small_kb, f"{small} subtasks",
            ratio_at_most(2.0),
            note=(
                f"peak Redis used_memory over the first {BROKER_SAMPLE_SECONDS:g} s of each job, minus the "
                f"median over {IDLE_SAMPLE_SECONDS:g} s idle just before it"
            ),
        )
    ]


def _broker_peak(ctx, subtasks):
    settle(ctx.platform)
    idle = median(_sample_used_memory(ctx.platform, IDLE_SAMPLE_SECONDS))
    job_id = submit(*_load(subtasks))
    peak = max(_sample_used_memory(ctx.platform, BROKER_SAMPLE_SECONDS))
    cancel_job(job_id)
    return peak - idle


def _sample_used_memory(platform, seconds):
    samples = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        samples.append(platform.used_memory())
        time.sleep(0.02)
    return samples

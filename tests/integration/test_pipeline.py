"""Jobs through the API to completion on real Celery workers over a real Redis."""

import random
import re
import statistics
import time
from collections import Counter

import pytest

from jobs.dispatch import publish, subtask_messages
from jobs import registry
from jobs.clock import db_now
from jobs.models import Job, Subtask
from tests.integration.conftest import wait_for_job

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def submit(api, type_name, params, **extra):
    response = api.post("/api/jobs/", {"type": type_name, "params": params, **extra}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def primes_below(n):
    sieve = [True] * n
    sieve[:2] = [False, False][:n]
    for p in range(2, int(n**0.5) + 1):
        if sieve[p]:
            sieve[p * p :: p] = [False] * len(sieve[p * p :: p])
    return [p for p, is_prime in enumerate(sieve) if is_prime]


def assert_counted_once(job):
    """Every subtask succeeded exactly once and the counters say so."""
    subtasks = Subtask.objects.filter(job=job)
    assert subtasks.count() == job.total
    assert set(subtasks.values_list("status", flat=True)) == {"succeeded"}
    assert job.done == job.total and job.failed == 0


def test_a_wordcount_job_gives_the_reference_counts(platform, api):
    rng = random.Random(7)
    words = ["alpha", "beta", "Gamma", "delta", "eps", "zeta"]
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 40))) + "!" for _ in range(60)]
    job = wait_for_job(submit(api, "wordcount", {"texts": texts, "top": 3, "chunk_size": 7}))

    counts = Counter(w for text in texts for w in re.findall(r"\w+", text.lower()))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:3]
    assert job.status == "succeeded", job.error
    assert job.result == {
        "total_words": sum(counts.values()),
        "unique_words": len(counts),
        "top": [list(item) for item in ranked],
    }
    assert_counted_once(job)


def test_a_primes_job_counts_the_primes_in_its_range(platform, api):
    job = wait_for_job(submit(api, "primes", {"start": 0, "end": 200_000, "chunk_size": 15_000}))
    reference = primes_below(200_000)
    assert job.status == "succeeded", job.error
    assert job.result == {"count": len(reference), "largest": reference[-1]}
    assert_counted_once(job)


def test_a_stats_job_matches_the_statistics_module(platform, api):
    values = [random.Random(3).uniform(-1e3, 1e3) for _ in range(5)] + list(range(995))
    job = wait_for_job(submit(api, "stats", {"values": values, "chunk_size": 64}))
    assert job.status == "succeeded", job.error
    assert job.result["count"] == len(values)
    assert job.result["sum"] == pytest.approx(sum(values))
    assert job.result["mean"] == pytest.approx(statistics.fmean(values))
    assert job.result["stdev"] == pytest.approx(statistics.stdev(values))
    assert (job.result["min"], job.result["max"]) == (min(values), max(values))


def test_transient_faults_are_retried_until_the_job_succeeds(platform, api):
    params = {"subtasks": 60, "fail_rate": 0.3, "fail_mode": "transient", "seed": 11}
    job = wait_for_job(submit(api, "diagnostic", params))
    assert job.status == "succeeded", job.error
    assert job.result == {"subtasks": 60, "index_sum": sum(range(60))}
    assert_counted_once(job)
    assert Subtask.objects.filter(job=job, attempt__gt=1).exists()


def test_a_permanent_fault_fails_the_job_with_a_readable_error(platform, api):
    params = {"subtasks": 40, "fail_rate": 0.2, "fail_mode": "permanent", "seed": 5}
    job = wait_for_job(submit(api, "diagnostic", params))
    assert job.status == "failed"
    named = re.match(r"subtask (\d+) failed: PermanentError: diagnostic permanent fault in subtask \d+", job.error)
    assert named, job.error
    assert job.result is None
    # Two pool processes can each fail a subtask before the job's end cancels the rest:
    # every failure is recorded, the job's error names the first.
    failed = list(Subtask.objects.filter(job=job, status="failed").values_list("index", "attempt"))
    assert int(named[1]) in {index for index, _ in failed}
    assert {attempt for _, attempt in failed} == {1}, "a permanent error is not retried"


def test_a_canceled_job_never_runs_its_pending_subtasks(platform, api):
    job_id = submit(api, "diagnostic", {"subtasks": 300, "sleep_ms": 20})
    deadline = time.monotonic() + 30
    while not Subtask.objects.filter(job_id=job_id, status="succeeded").exists():
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.02)
    response = api.post(f"/api/jobs/{job_id}/cancel/")
    assert response.status_code == 200
    # Once the cancel has committed, no claim may start; one that won its row before the
    # cancel may be stamped a little later (PostgreSQL stamps a transaction's start), so
    # the line is drawn when the cancel has returned, on the database's clock.
    canceled_at = db_now()

    time.sleep(1.0)  # long enough for any wrongly dispatched subtask to start
    job = Job.objects.get(pk=job_id)
    assert job.status == "canceled"
    assert not Subtask.objects.filter(job=job, started_at__gt=canceled_at).exists()
    assert Subtask.objects.filter(job=job, status="canceled", started_at=None).count() > 200


def test_duplicate_messages_are_not_counted_twice(platform, api):
    job_id = submit(api, "diagnostic", {"subtasks": 80, "sleep_ms": 5})
    job = Job.objects.get(pk=job_id)
    # Every message sent twice more, as a broker redelivery or a zombie worker would.
    for _ in range(2):
        pairs = Subtask.objects.filter(job=job).exclude(attempt=0).values_list("id", "attempt")
        publish(subtask_messages(list(pairs), registry.get("diagnostic"), job.queue, job.priority))
    job = wait_for_job(job_id)
    assert job.status == "succeeded", job.error
    assert job.result == {"subtasks": 80, "index_sum": sum(range(80))}
    assert_counted_once(job)


def test_the_cli_submits_and_waits_for_the_result(platform, owner, capsys):
    from django.core.management import call_command

    call_command("submit", "primes", "--param", "start=0", "--param", "end=1000", "--user", "owner", "--wait")
    captured = capsys.readouterr()
    assert '"count": 168' in captured.out and '"largest": 997' in captured.out
    assert "168/1" not in captured.err and "done=" in captured.err


def test_a_failed_job_retried_runs_its_failed_subtasks_again_and_succeeds(platform, api):
    job = wait_for_job(submit(api, "fails_once", {"subtasks": 30, "sleep_ms": 5}))
    assert job.status == "failed" and job.error.startswith("subtask 0 failed: PermanentError")

    response = api.post(f"/api/jobs/{job.pk}/retry/")
    assert response.status_code == 200, response.json()
    job = wait_for_job(job.pk)
    assert job.status == "succeeded", job.error
    assert job.result == {"subtasks": 30, "index_sum": sum(range(30))}
    assert_counted_once(job)


def test_a_subtask_over_its_time_limit_fails_with_a_timeout_and_the_worker_survives(platform, api):
    job = wait_for_job(submit(api, "time_limited", {"subtasks": 1, "sleep_ms": 3000}))
    assert job.status == "failed"
    assert "timeout: the subtask ran past its time limit of 1.0s" in job.error
    assert Subtask.objects.get(job=job).tries == 1, "a timeout is not retried unless the type says so"

    after = wait_for_job(submit(api, "time_limited", {"subtasks": 4, "sleep_ms": 10}))
    assert after.status == "succeeded", after.error

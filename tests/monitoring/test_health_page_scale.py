"""The health page, /metrics and a snapshot pass at 100,000 subtask rows and a day of
snapshots. Prints the figures (no timing assertion: the machine is shared); asserts the
query counts, which is what keeps them fast at any size."""

import random
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import timezone

from jobs.models import Job, Subtask, Worker
from monitoring import histograms, history
from monitoring.models import Snapshot

pytestmark = pytest.mark.django_db

JOBS, SUBTASKS_PER_JOB = 100, 1000
SERIES = ["cpu|primes", "default|wordcount", "io|diagnostic", "default|stats"]


def create_rows(now):
    rng = random.Random(7)
    owner = get_user_model().objects.create_user("bulk")
    jobs = Job.objects.bulk_create(
        Job(owner=owner, type=key.split("|")[1], queue=key.split("|")[0], status=Job.Status.SUCCEEDED,
            total=SUBTASKS_PER_JOB, done=SUBTASKS_PER_JOB, finished_at=now - timedelta(seconds=rng.uniform(0, 86400)))
        for key in (SERIES[n % len(SERIES)] for n in range(JOBS))
    )
    Job.objects.filter(pk__in=[j.pk for j in jobs[-10:]]).update(status=Job.Status.RUNNING, finished_at=None)
    batch = []
    for job in jobs:
        for index in range(SUBTASKS_PER_JOB):
            finished = now - timedelta(seconds=rng.uniform(0, 86400))
            status = Subtask.Status.FAILED if rng.random() < 0.02 else Subtask.Status.SUCCEEDED
            batch.append(Subtask(
                job=job, index=index, payload={"n": index}, status=status, worker=f"w{index % 8}",
                queued_at=finished - timedelta(seconds=3), started_at=finished - timedelta(seconds=1),
                finished_at=finished, error="boom" if status == Subtask.Status.FAILED else "",
            ))
        if len(batch) >= 20000:
            Subtask.objects.bulk_create(batch)
            batch = []
    Subtask.objects.bulk_create(batch)
    for n in range(8):
        Worker.objects.create(hostname=f"w{n}", queues=["default", "cpu", "io"], consuming=["default", "cpu", "io"],
                              concurrency=4, started_at=now - timedelta(hours=2), last_seen_at=now)
    minute = now.replace(second=0, microsecond=0)

    def cumulative(minutes_ago):
        counts = histograms.empty()
        counts[histograms.bucket_of(1.0)] = 50 * (1441 - minutes_ago)
        return {measure: {key: counts for key in SERIES} for measure in history.MEASURES}

    Snapshot.objects.bulk_create(
        Snapshot(
            period_start=minute - timedelta(minutes=m + 1), period_end=minute - timedelta(minutes=m), taken_at=now,
            subtasks_succeeded=60, subtasks_failed=1, jobs_finished=1, histograms=cumulative(m),
            wait_p50=1, wait_p95=2, wait_p99=3, run_p50=1, run_p95=2, run_p99=3,
        )
        for m in range(1, 1441)
    )


def timed(fn, repeat=5):
    best = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    return result, best


def test_page_metrics_and_snapshot_at_100k_subtasks(client, settings, django_assert_max_num_queries, capsys):
    now = timezone.now()
    create_rows(now)
    assert Subtask.objects.count() == JOBS * SUBTASKS_PER_JOB
    client.force_login(get_user_model().objects.create_superuser("root", password="root-pw-12345"))
    settings.LEPTON_METRICS_CACHE_SECONDS = 0

    # Nine panels of a few aggregates each, whatever the row count (see test_health_page).
    with django_assert_max_num_queries(40) as queries:
        response, first_seconds = timed(lambda: client.get("/admin/monitoring/health/"), repeat=1)
        page_queries = len(queries)  # read inside: later requests reset the query log
    assert response.status_code == 200
    _, page_seconds = timed(lambda: client.get("/admin/monitoring/health/"))
    _, cold_seconds = timed(lambda: cache.clear() or client.get("/admin/monitoring/health/"))
    _, metrics_seconds = timed(lambda: client.get("/metrics"))
    Snapshot.objects.filter(period_end__gte=now - timedelta(minutes=2)).delete()
    _, snapshot_seconds = timed(lambda: history.take(now + timedelta(minutes=1)), repeat=1)

    with capsys.disabled():
        print(
            f"\nhealth figures at {JOBS * SUBTASKS_PER_JOB} subtasks, 1440 snapshots: {page_queries} queries; "
            f"page: first request of the process {first_seconds * 1000:.0f} ms, charts rebuilt "
            f"{cold_seconds * 1000:.0f} ms, charts cached {page_seconds * 1000:.0f} ms; /metrics {metrics_seconds * 1000:.0f} ms (uncached), "
            f"snapshot pass over the last minutes {snapshot_seconds * 1000:.0f} ms"
        )

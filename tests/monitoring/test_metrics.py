"""GET /metrics: Prometheus text from the database, bearer token or loopback only."""

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from jobs.models import Housekeeping, Job, Subtask
from monitoring import history
from monitoring.version import VERSION
from tests.monitoring import factories as make

pytestmark = pytest.mark.django_db

EXPECTED_TYPES = {
    "lepton_jobs_submitted": "counter",
    "lepton_jobs_finished": "counter",
    "lepton_subtasks_finished": "counter",
    "lepton_subtask_retries": "counter",
    "lepton_recovery_events": "counter",
    "lepton_subtask_queue_wait_seconds": "histogram",
    "lepton_subtask_run_seconds": "histogram",
    "lepton_job_duration_seconds": "histogram",
    "lepton_queue_depth": "gauge",
    "lepton_queue_oldest_waiting_seconds": "gauge",
    "lepton_workers": "gauge",
    "lepton_reconciler_last_success_timestamp_seconds": "gauge",
    "lepton_build_info": "gauge",
}


@pytest.fixture(autouse=True)
def fresh(settings):
    settings.LEPTON_METRICS_CACHE_SECONDS = 0
    settings.LEPTON_METRICS_TOKEN = ""


def scrape(client, **headers):
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    return {family.name: family for family in text_string_to_metric_families(response.content.decode())}


def value(families, family, sample_name, **labels):
    matches = [s.value for s in families[family].samples if s.name == sample_name and s.labels == labels]
    assert len(matches) == 1, (sample_name, labels, families[family].samples)
    return matches[0]


def test_it_exposes_every_family_with_its_type(client):
    response = client.get("/metrics")
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    families = scrape(client)
    assert {name: families[name].type for name in EXPECTED_TYPES} == EXPECTED_TYPES


def test_counts_and_histograms_after_known_jobs(client):
    now = timezone.now()
    at = now - timedelta(minutes=5)
    for outcome, n in ((Subtask.Status.SUCCEEDED, 3), (Subtask.Status.FAILED, 1)):
        job = make.job(type="wordcount", queue="io", status=outcome, finished_at=at)
        for index in range(n):
            make.finished_subtask(job, index, outcome, at, wait=0.2, run=3.0, tries=2 if outcome == "failed" else 1)
    make.job(type="primes", queue="cpu", status=Job.Status.QUEUED)
    Job.objects.update(created_at=at - timedelta(seconds=10))
    history.take(now)

    families = scrape(client)

    assert value(families, "lepton_jobs_submitted", "lepton_jobs_submitted_total", type="wordcount", queue="io") == 2
    assert value(families, "lepton_jobs_finished", "lepton_jobs_finished_total", type="wordcount", queue="io", outcome="failed") == 1
    assert value(
        families, "lepton_subtasks_finished", "lepton_subtasks_finished_total",
        type="wordcount", queue="io", outcome="succeeded",
    ) == 3
    assert value(families, "lepton_subtask_retries", "lepton_subtask_retries_total") == 1
    run = dict(type="wordcount", queue="io")
    assert value(families, "lepton_subtask_run_seconds", "lepton_subtask_run_seconds_count", **run) == 4
    assert value(families, "lepton_subtask_run_seconds", "lepton_subtask_run_seconds_sum", **run) == pytest.approx(12.0)
    assert value(families, "lepton_subtask_run_seconds", "lepton_subtask_run_seconds_bucket", le="2.5", **run) == 0
    assert value(families, "lepton_subtask_run_seconds", "lepton_subtask_run_seconds_bucket", le="5.0", **run) == 4
    assert value(families, "lepton_subtask_queue_wait_seconds", "lepton_subtask_queue_wait_seconds_bucket", le="0.25", **run) == 4


def test_live_gauges_read_queues_workers_and_the_reconciler(client, real_broker):
    now = timezone.now()
    make.worker("w1", now, queues=["cpu"])
    make.worker("w2", now, seen_ago=30)
    job = make.job(queue="cpu", total=5)
    make.subtask(job, 0, Subtask.Status.QUEUED, queued_at=now - timedelta(seconds=42))
    real_broker.client.rpush("cpu", b"{}", b"{}")
    Housekeeping.objects.create(name="reconcile", last_succeeded_at=now)

    families = scrape(client)

    assert value(families, "lepton_queue_depth", "lepton_queue_depth", queue="cpu", state="broker") == 2
    assert value(families, "lepton_queue_depth", "lepton_queue_depth", queue="cpu", state="outstanding") == 5
    assert value(families, "lepton_queue_oldest_waiting_seconds", "lepton_queue_oldest_waiting_seconds", queue="cpu") >= 42
    assert value(families, "lepton_workers", "lepton_workers", state="online") == 1
    assert value(families, "lepton_workers", "lepton_workers", state="stale") == 1
    assert value(
        families, "lepton_reconciler_last_success_timestamp_seconds", "lepton_reconciler_last_success_timestamp_seconds"
    ) == pytest.approx(now.timestamp())
    assert value(families, "lepton_build_info", "lepton_build_info", version=VERSION) == 1


def test_labels_never_carry_job_or_user_ids(client):
    make.job(status=Job.Status.SUCCEEDED, finished_at=timezone.now() - timedelta(minutes=3))
    history.take(timezone.now())
    names = {label for family in scrape(client).values() for s in family.samples for label in s.labels}
    assert names <= {"type", "queue", "outcome", "kind", "state", "le", "version", "severity"}


def test_counters_do_not_go_down_when_jobs_and_snapshots_are_pruned(client, settings):
    now = timezone.now()
    job = make.job(status=Job.Status.SUCCEEDED, finished_at=now - timedelta(minutes=3))
    make.finished_subtask(job, 0, Subtask.Status.SUCCEEDED, now - timedelta(minutes=3))
    history.take(now)
    Job.objects.all().delete()
    history.record(now + timedelta(days=settings.LEPTON_SNAPSHOT_RETENTION_DAYS + 1))

    families = scrape(client)

    assert value(
        families, "lepton_subtasks_finished", "lepton_subtasks_finished_total",
        type="primes", queue="cpu", outcome="succeeded",
    ) == 1


def test_a_scrape_is_cached_for_a_few_seconds(client, settings, django_assert_max_num_queries):
    settings.LEPTON_METRICS_CACHE_SECONDS = 5
    scrape(client)
    with django_assert_max_num_queries(0):
        scrape(client)


def test_a_remote_client_needs_the_token_when_none_is_set(client):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 403
    assert b"LEPTON_METRICS_TOKEN" in response.content


def test_with_a_token_a_request_without_it_gets_401(client, settings):
    settings.LEPTON_METRICS_TOKEN = "s3cret"
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": "Bearer s3cret-not"}):
        response = client.get("/metrics", REMOTE_ADDR="203.0.113.9", **headers)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
    # Loopback is no exception once a token is set.
    assert client.get("/metrics").status_code == 401


def test_with_the_token_a_remote_client_gets_the_metrics(client, settings):
    settings.LEPTON_METRICS_TOKEN = "s3cret"
    families = scrape(client, REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret")
    assert "lepton_build_info" in families

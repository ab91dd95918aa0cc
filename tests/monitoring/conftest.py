"""Monitoring tests read rows created directly and talk to a real (embedded) broker.

The Redis is this folder's own: the integration suite's session broker and workers may
be running in the same session, and their messages must not show up as queue depths
here. Those workers (and their beat) also keep writing heartbeats and snapshots to the
test database for the rest of the session, so each test starts by emptying the tables
monitoring reads; the deletes are inside the test's transaction and roll back with it.
"""

from dataclasses import dataclass

import pytest
import redis
from django.core.cache import cache

from jobs.models import Housekeeping, Job, RecoveryEvent, Worker, WorkerMinute
from lepton.celery import app as celery_app
from lepton.embedded_redis import EmbeddedRedis
from monitoring.models import MetricTotal, Snapshot

#: What monitoring reads, emptied before each test.
READ_MODELS = (Job, RecoveryEvent, Worker, WorkerMinute, Housekeeping, Snapshot, MetricTotal)


@dataclass
class Broker:
    url: str
    client: redis.Redis


@pytest.fixture(scope="session")
def monitoring_redis(tmp_path_factory):
    # A short path: unix socket paths are limited to about 100 characters.
    run_dir = tmp_path_factory.mktemp("mredis", numbered=True)
    with EmbeddedRedis(run_dir / "redis.sock", run_dir / "redis.log") as embedded:
        client = embedded.client()
        yield Broker(embedded.url, client)
        client.close()


@pytest.fixture(autouse=True)
def real_broker(monitoring_redis, monkeypatch):
    """Every monitoring test sees its embedded Redis, empty. Only the URL changes: the
    code under test opens its own connections (connection_for_write), never the pool."""
    monitoring_redis.client.flushdb()
    monkeypatch.setitem(celery_app.conf, "broker_url", monitoring_redis.url)
    return monitoring_redis


@pytest.fixture(autouse=True)
def empty_tables(request):
    if request.node.get_closest_marker("django_db") is None and "db" not in request.fixturenames:
        return
    request.getfixturevalue("db")
    for model in READ_MODELS:
        model.objects.all().delete()


@pytest.fixture(autouse=True)
def empty_cache():
    """Cached charts and /metrics text from another test never show here."""
    cache.clear()


@pytest.fixture
def broker_down(monkeypatch):
    """Celery pointed at a closed port: connecting is refused at once."""
    monkeypatch.setitem(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")

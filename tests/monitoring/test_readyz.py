"""GET /readyz: IETF health-check shape; 503 only when the database or broker fails."""

from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from jobs.models import Housekeeping
from tests.monitoring import factories as make

pytestmark = pytest.mark.django_db


@pytest.fixture
def healthy(settings):
    """Every queue consumed and a reconciler that just succeeded."""
    now = timezone.now()
    make.worker("all-queues", now, queues=[*settings.LEPTON_QUEUES, settings.CONTROL_QUEUE])
    Housekeeping.objects.create(name="reconcile", last_succeeded_at=now)


def test_it_passes_with_the_health_json_shape(client, healthy):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/health+json"
    body = response.json()
    assert body["status"] == "pass"
    assert set(body["checks"]) == {"database", "broker", "consumers", "reconciler", "canary"}
    for entries in body["checks"].values():
        assert [entry["status"] for entry in entries] == ["pass"]
        assert {"status", "output", "time"} <= set(entries[0])


def test_a_queue_without_consumers_is_a_warning_not_a_failure(client, healthy, settings):
    settings.LEPTON_QUEUES = [*settings.LEPTON_QUEUES, "gpu"]

    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "warn"
    assert body["checks"]["consumers"][0] == {**body["checks"]["consumers"][0], "status": "warn"}
    assert "gpu" in body["checks"]["consumers"][0]["output"]


def test_a_stale_reconciler_is_a_warning(client, healthy, settings):
    settings.LEPTON_RECONCILER_STALE_SECONDS = 30
    Housekeeping.objects.filter(name="reconcile").update(last_succeeded_at=timezone.now() - timedelta(minutes=5))

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"]["reconciler"][0]["status"] == "warn"


def test_a_reconciler_that_never_ran_is_a_warning(client, settings):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["reconciler"][0]["output"] == "the reconciler has never succeeded"


def test_a_broker_that_is_down_fails_with_503(client, healthy, broker_down):
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/health+json"
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["broker"][0]["status"] == "fail"
    assert body["checks"]["database"][0]["status"] == "pass"


def test_a_database_that_is_down_fails_with_503(client, healthy, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("could not connect to server: Connection refused")

    # Every query of this request now fails as with a database that went away.
    monkeypatch.setattr(connection, "cursor", refuse)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["database"][0]["status"] == "fail"

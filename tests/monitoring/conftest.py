"""Monitoring tests read rows created directly and talk to a real (embedded) broker."""

import pytest

from lepton.celery import app as celery_app


@pytest.fixture(autouse=True)
def real_broker(broker):
    """Every monitoring test sees the embedded Redis, empty."""
    broker.client.flushdb()
    return broker


@pytest.fixture
def broker_down(monkeypatch):
    """Celery pointed at a closed port: connecting is refused at once."""
    monkeypatch.setitem(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")

"""Monitoring tests read rows created directly and talk to a real (embedded) broker."""

import pytest
from django.core.cache import cache

from lepton.celery import app as celery_app
# The session's embedded Redis, and real workers and beat for the browser test.
from tests.integration.conftest import broker, platform, platform_env  # noqa: F401


@pytest.fixture(autouse=True)
def real_broker(broker):  # noqa: F811
    """Every monitoring test sees the embedded Redis, empty."""
    broker.client.flushdb()
    return broker


@pytest.fixture
def broker_down(monkeypatch):
    """Celery pointed at a closed port: connecting is refused at once."""
    monkeypatch.setitem(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")


@pytest.fixture(autouse=True)
def empty_cache():
    """Cached charts and /metrics text from another test never show here."""
    cache.clear()

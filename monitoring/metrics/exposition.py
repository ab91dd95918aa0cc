"""The /metrics text: every source's families in Prometheus text format, cached briefly.

All counts come from the database, so every web process answers the same, across
restarts. A scrape every second would otherwise cost a dozen queries a second: the text
is kept in the Django cache for LEPTON_METRICS_CACHE_SECONDS (shared between processes
when LEPTON_CACHE_URL points at Redis).
"""

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest

from monitoring.metrics import sources

CACHE_KEY = "monitoring:metrics-text"


class _Sources:
    def __init__(self, now):
        self.now = now

    def collect(self):
        for source in sources.SOURCES:
            yield from source(self.now)


def render():
    text = cache.get(CACHE_KEY)
    if text is None:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Sources(timezone.now()))
        text = generate_latest(registry)
        if settings.LEPTON_METRICS_CACHE_SECONDS:
            cache.set(CACHE_KEY, text, settings.LEPTON_METRICS_CACHE_SECONDS)
    return text

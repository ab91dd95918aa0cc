"""monitoring.alerting.metrics: the families alerting adds to /metrics, after known rows."""

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from monitoring.alerting import metrics
from monitoring.models import Alert, CanaryRun
from tests.monitoring import factories as make
from tests.monitoring.alerting_helpers import rule

pytestmark = pytest.mark.django_db


class Source:
    def __init__(self, now):
        self.now = now

    def collect(self):
        return metrics.families(self.now)


def scrape(now):
    registry = CollectorRegistry()
    registry.register(Source(now))
    text = generate_latest(registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_it_counts_firing_alerts_by_severity():
    now = timezone.now()
    critical = rule(name="c", severity="critical")
    for n, state in enumerate(["firing", "firing", "pending"]):
        Alert.objects.create(rule=critical, labels={"n": n}, fingerprint=str(n), state=state, started_at=now, last_evaluated_at=now)
    Alert.objects.create(rule=critical, labels={}, fingerprint="old", state="resolved", resolved_at=now, started_at=now, last_evaluated_at=now)

    samples = scrape(now)

    assert samples[("lepton_alerts_firing", (("severity", "critical"),))] == 2
    assert samples[("lepton_alerts_firing", (("severity", "warning"),))] == 0


def test_it_reports_the_canarys_last_success_and_failures_in_a_row():
    now = timezone.now().replace(microsecond=0)
    CanaryRun.objects.create(queue="io", submitted_at=now - timedelta(seconds=70), finished_at=now - timedelta(seconds=60), outcome="succeeded")
    CanaryRun.objects.create(queue="io", submitted_at=now - timedelta(seconds=10), finished_at=now, outcome="failed")

    samples = scrape(now)

    assert samples[("lepton_canary_last_success_timestamp_seconds", (("queue", "io"),))] == (now - timedelta(seconds=60)).timestamp()
    assert samples[("lepton_canary_consecutive_failures", (("queue", "io"),))] == 1
    assert samples[("lepton_canary_consecutive_failures", (("queue", "cpu"),))] == 0


def test_it_counts_stuck_consumers(real_broker):
    now = timezone.now()
    real_broker.client.rpush("io", b"{}")
    make.worker("w1", now, queues=["io"])
    make.worker("w2", now, queues=["cpu", "io"], quarantined_until=now + timedelta(minutes=5))

    samples = scrape(now)

    assert samples[("lepton_stuck_consumers", ())] == 1

"""Alerting's Prometheus families for /metrics (added to monitoring.metrics.sources.SOURCES).

lepton_alerts_firing{severity}, lepton_canary_last_success_timestamp_seconds{queue},
lepton_canary_consecutive_failures{queue} and lepton_stuck_consumers. (The "no consumer"
rule's Prometheus twin reads lepton_queue_consumers{queue}, which monhealth's live gauges
serve.)
"""

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from monitoring import canary, stuck
from monitoring.models.alerts import Alert, Severity


def families(now):
    yield _alerts_firing()
    yield from _canary()
    stuck_now = GaugeMetricFamily(
        "lepton_stuck_consumers", "Live workers with free slots that claim nothing from a non-empty queue."
    )
    stuck_now.add_metric([], len(stuck.stuck_consumers(now)))
    yield stuck_now


def _alerts_firing():
    counts = dict(
        Alert.objects.filter(state=Alert.State.FIRING, resolved_at__isnull=True)
        .values_list("rule__severity").annotate(n=Count("*")).order_by()
    )
    family = GaugeMetricFamily("lepton_alerts_firing", "Alerts firing now, by severity.", labels=["severity"])
    for severity in Severity.values:
        family.add_metric([severity], counts.get(severity, 0))
    return family


def _canary():
    last = GaugeMetricFamily(
        "lepton_canary_last_success_timestamp_seconds",
        "When the last canary job on the queue finished successfully (Unix time).",
        labels=["queue"],
    )
    for queue, finished_at in sorted(canary.last_successes().items()):
        if finished_at is not None:
            last.add_metric([queue], finished_at.timestamp())
    yield last
    failures = GaugeMetricFamily(
        "lepton_canary_consecutive_failures",
        "Canary runs on the queue that failed since its last success.",
        labels=["queue"],
    )
    for queue, count in sorted(canary.consecutive_failures().items()):
        failures.add_metric([queue], count)
    yield failures


"""Shared pieces of the alerting tests."""

from monitoring.models import AlertRule


class FixedReadings:
    """Readings whose samples are set by the test, per signal."""

    def __init__(self, **samples_by_signal):
        self.samples_by_signal = samples_by_signal

    def samples(self, rule):
        return self.samples_by_signal.get(rule.signal, [])


def rule(name="backlog", signal="oldest_waiting", comparison=">", threshold=300, for_seconds=60, **fields):
    return AlertRule.objects.create(
        name=name, signal=signal, comparison=comparison, threshold=threshold, for_seconds=for_seconds,
        message=fields.pop("message", "queue {queue} waited {value}s"), **fields,
    )

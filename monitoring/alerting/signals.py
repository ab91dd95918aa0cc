"""What each rule signal reads: samples (labels, value) from monhealth's figures and from
the canary and stuck-consumer detectors. One Readings per evaluation pass, so rules that
share a figure read it once."""

from functools import cached_property

from django.conf import settings

from monitoring import canary, figures, stuck
from monitoring.models.alerts import Signal


class Readings:
    def __init__(self, now):
        self.now = now

    @cached_property
    def queues(self):
        return figures.queue_figures(self.now)

    @cached_property
    def workers(self):
        return figures.worker_figures(self.now)

    def samples(self, rule):
        return READERS[rule.signal](self, rule)


def _job_queues(readings):
    """Every job queue, also one that no figure mentions yet (nobody consumes it)."""
    return sorted(set(settings.LEPTON_QUEUES) | (set(readings.queues) - {settings.CONTROL_QUEUE}))


def _oldest_waiting(readings, rule):
    return [
        ({"queue": name}, readings.queues[name].oldest_waiting_seconds or 0.0)
        for name in _job_queues(readings)
        if name in readings.queues
    ]


def _workers_online(readings, rule):
    return [
        ({"queue": name}, float(readings.queues[name].consumers if name in readings.queues else 0))
        for name in _job_queues(readings)
    ]


def _failure_ratio(readings, rule):
    ratio = figures.failure_ratio(readings.now, rule.window_seconds)
    return [] if ratio is None else [({}, ratio)]


def _worker_p_n(readings, rule):
    # Per-worker P_n comes over the figures' own window (the quarantine window).
    return [
        ({"worker": worker.hostname}, worker.p_n)
        for worker in readings.workers
        if worker.p_n is not None and worker.state != "gone"
    ]


def _stuck_consumer(readings, rule):
    return [({"worker": hostname}, 1.0) for hostname in stuck.review(readings.now)]


def _reconciler_stale(readings, rule):
    # Never succeeded yet (a fresh install before its first tick): nothing to compare.
    last = figures.reconciler_last_success()
    return [] if last is None else [({}, (readings.now - last).total_seconds())]


def _canary_failing(readings, rule):
    return [({"queue": queue}, float(n)) for queue, n in canary.consecutive_failures().items()]


def _watchdog(readings, rule):
    return [({}, 1.0)]


READERS = {
    Signal.OLDEST_WAITING: _oldest_waiting,
    Signal.WORKERS_ONLINE: _workers_online,
    Signal.FAILURE_RATIO: _failure_ratio,
    Signal.WORKER_FAILURE_PROBABILITY: _worker_p_n,
    Signal.STUCK_CONSUMER: _stuck_consumer,
    Signal.RECONCILER_STALE: _reconciler_stale,
    Signal.CANARY_FAILING: _canary_failing,
    Signal.WATCHDOG: _watchdog,
}

"""Gauges read at scrape time: queues, workers, the reconciler, the build."""

from prometheus_client.core import GaugeMetricFamily

from monitoring import figures
from monitoring.version import VERSION


def families(now):
    queues = figures.queue_figures(now).values()
    depth = GaugeMetricFamily(
        "lepton_queue_depth",
        "Work waiting per queue: messages in the broker (state=broker), unfinished subtasks in the database (state=outstanding).",
        labels=["queue", "state"],
    )
    oldest = GaugeMetricFamily(
        "lepton_queue_oldest_waiting_seconds",
        "Age of the oldest queued subtask not yet claimed by a worker (0 when none waits).",
        labels=["queue"],
    )
    consumers = GaugeMetricFamily(
        "lepton_queue_consumers", "Live, not quarantined workers consuming the queue.", labels=["queue"]
    )
    for q in queues:
        if q.depth is not None:
            depth.add_metric([q.queue, "broker"], q.depth)
        depth.add_metric([q.queue, "outstanding"], q.outstanding)
        oldest.add_metric([q.queue], q.oldest_waiting_seconds or 0.0)
        consumers.add_metric([q.queue], q.consumers)
    yield from (depth, oldest, consumers)

    states = dict.fromkeys(figures.WORKER_STATES, 0)
    for worker in figures.worker_figures(now):
        states[worker.state] += 1
    workers = GaugeMetricFamily("lepton_workers", "Workers by state (gone ones until they fold away).", labels=["state"])
    for state, n in states.items():
        workers.add_metric([state], n)
    yield workers

    reconciler = GaugeMetricFamily(
        "lepton_reconciler_last_success_timestamp_seconds",
        "Unix time of the reconciler's last successful pass (absent if it never succeeded).",
    )
    last = figures.reconciler_last_success()
    if last is not None:
        reconciler.add_metric([], last.timestamp())
    yield reconciler

    build = GaugeMetricFamily("lepton_build_info", "The running Lepton version.", labels=["version"])
    build.add_metric([VERSION], 1)
    yield build

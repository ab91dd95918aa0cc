"""The alert rules Lepton ships, created when missing (post_migrate) and exported to the
Prometheus rules file, so the two never drift apart."""

from monitoring.models.alerts import AlertRule, Signal

DEFAULT_RULES = [
    {
        "name": "No consumer for a queue",
        "signal": Signal.WORKERS_ONLINE, "comparison": "<", "threshold": 1, "for_seconds": 60,
        "severity": "critical",
        "message": "No live worker consumes queue {queue}: its jobs wait until one does.",
    },
    {
        "name": "Backlog: oldest waiting subtask",
        "signal": Signal.OLDEST_WAITING, "comparison": ">", "threshold": 300, "for_seconds": 120,
        "severity": "warning",
        "message": "The oldest subtask waiting on queue {queue} has waited {value}s (over {threshold}s).",
    },
    {
        "name": "High failure ratio",
        "signal": Signal.FAILURE_RATIO, "comparison": ">", "threshold": 0.2, "for_seconds": 300,
        "window_seconds": 300, "severity": "warning",
        "message": "{value} of the subtasks finished in the last 5 minutes failed (over {threshold}).",
    },
    {
        "name": "Flaky worker",
        "signal": Signal.WORKER_FAILURE_PROBABILITY, "comparison": ">", "threshold": 0.5, "for_seconds": 300,
        "severity": "warning",
        "message": "Worker {worker} fails {value} of its attempts (P_n over {threshold}).",
    },
    {
        "name": "Stuck consumer",
        "signal": Signal.STUCK_CONSUMER, "comparison": ">=", "threshold": 1, "for_seconds": 0,
        "severity": "critical",
        "message": "Worker {worker} sends heartbeats and has free slots but claims nothing from a non-empty queue.",
        # /metrics counts stuck workers without naming them (bounded labels).
        "prometheus_message": "{value} worker(s) send heartbeats and have free slots but claim nothing "
        "from a non-empty queue; the health page names them.",
    },
    {
        "name": "Canary failing",
        "signal": Signal.CANARY_FAILING, "comparison": ">=", "threshold": 2, "for_seconds": 0,
        "severity": "critical",
        "message": "The last {value} canary jobs on queue {queue} failed or did not finish in time.",
    },
    {
        "name": "Reconciler stale",
        "signal": Signal.RECONCILER_STALE, "comparison": ">", "threshold": 60, "for_seconds": 30,
        "severity": "critical",
        "message": "The reconciler last succeeded {value}s ago: lost messages and lapsed leases are not healed.",
    },
    {
        "name": "Watchdog",
        "signal": Signal.WATCHDOG, "comparison": ">", "threshold": 0, "for_seconds": 0,
        "severity": "info", "enabled": False,
        "message": "Always firing while enabled: proves that notifications reach you.",
    },
]


def ensure_default_rules():
    """Create each shipped rule that does not exist by name; returns how many were created."""
    created = 0
    for definition in DEFAULT_RULES:
        fields = {**definition, "shipped": True}
        fields.pop("prometheus_message", None)
        name = fields.pop("name")
        created += AlertRule.objects.get_or_create(name=name, defaults=fields)[1]
    return created

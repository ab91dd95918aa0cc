"""The Prometheus rules file and the Grafana dashboard, generated from the shipped alert
definitions (monitoring.alerting.defaults) and the metric names of /metrics, so a team
that alerts from Prometheus gets the same rules Lepton evaluates itself.

`python manage.py export_monitoring --out deploy/` writes them; a test checks that the
committed files are what this generates.
"""

import json
import re

import yaml

from monitoring.alerting.defaults import DEFAULT_RULES
from monitoring.models.alerts import Signal

PROMETHEUS_RULES_PATH = "prometheus/lepton-rules.yml"
GRAFANA_DASHBOARD_PATH = "grafana/lepton-dashboard.json"

FINISHED = 'lepton_subtasks_finished_total{outcome=~"succeeded|failed"}'
FAILED = 'lepton_subtasks_finished_total{outcome="failed"}'

#: A rule's signal as PromQL; the comparison and threshold are appended. P_n per worker
#: has none: /metrics carries no per-host series (labels stay bounded), so that rule lives
#: in Lepton only.
SIGNAL_EXPRESSIONS = {
    Signal.OLDEST_WAITING: lambda rule: "lepton_queue_oldest_waiting_seconds",
    Signal.WORKERS_ONLINE: lambda rule: "lepton_queue_consumers",
    Signal.FAILURE_RATIO: lambda rule: (
        f"(sum(rate({FAILED}[{rule.get('window_seconds', 300)}s])) / "
        f"sum(rate({FINISHED}[{rule.get('window_seconds', 300)}s])))"
    ),
    Signal.STUCK_CONSUMER: lambda rule: "lepton_stuck_consumers",
    Signal.CANARY_FAILING: lambda rule: "lepton_canary_consecutive_failures",
    Signal.RECONCILER_STALE: lambda rule: "(time() - lepton_reconciler_last_success_timestamp_seconds)",
    Signal.WATCHDOG: lambda rule: "vector(1)",
}


def _annotation(message, threshold):
    """A Lepton message as a Prometheus template: {queue} -> {{ $labels.queue }}."""

    def replace(match):
        name = match.group(1)
        if name == "value":
            return "{{ $value | humanize }}"
        if name == "threshold":
            return f"{threshold:g}"
        return "{{ $labels.%s }}" % name

    return re.sub(r"\{(\w+)\}", replace, message)


def _alert_name(name):
    return "Lepton" + "".join(word.capitalize() for word in re.findall(r"[A-Za-z0-9]+", name))


def prometheus_rules():
    rules = []
    for rule in DEFAULT_RULES:
        expression = SIGNAL_EXPRESSIONS.get(rule["signal"])
        if expression is None:
            continue
        entry = {
            "alert": _alert_name(rule["name"]),
            "expr": f"{expression(rule)} {rule['comparison']} {rule['threshold']:g}",
            "for": f"{rule['for_seconds']}s",
            "labels": {"severity": rule["severity"]},
            "annotations": {"summary": _annotation(rule.get("prometheus_message", rule["message"]), rule["threshold"])},
        }
        if rule.get("runbook_url"):
            entry["annotations"]["runbook_url"] = rule["runbook_url"]
        rules.append(entry)
    return {"groups": [{"name": "lepton", "rules": rules}]}


def _threshold(signal):
    rule = next(r for r in DEFAULT_RULES if r["signal"] == signal)
    return rule["threshold"]


def _panel(panel_id, title, targets, x, y, unit="short", kind="timeseries", width=12, height=8, threshold=None):
    panel = {
        "id": panel_id,
        "type": kind,
        "title": title,
        "datasource": {"type": "prometheus", "uid": "${DS_PROMETHEUS}"},
        "gridPos": {"x": x, "y": y, "w": width, "h": height},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [
            {"refId": chr(ord("A") + n), "expr": expr, "legendFormat": legend}
            for n, (expr, legend) in enumerate(targets)
        ],
    }
    if threshold is not None:
        panel["fieldConfig"]["defaults"]["thresholds"] = {
            "mode": "absolute",
            "steps": [{"color": "green", "value": None}, {"color": "red", "value": threshold}],
        }
        panel["fieldConfig"]["defaults"]["custom"] = {"thresholdsStyle": {"mode": "line"}}
    return panel


def _quantiles(metric):
    return [
        (f"histogram_quantile({q}, sum by (le) (rate({metric}_bucket[5m])))", f"p{int(q * 100)}")
        for q in (0.5, 0.95, 0.99)
    ]


def grafana_dashboard():
    panels = [
        _panel(1, "Alerts firing", [("sum by (severity) (lepton_alerts_firing)", "{{severity}}")], 0, 0, kind="stat", width=6, height=4),
        _panel(2, "Stuck consumers", [("lepton_stuck_consumers", "stuck")], 6, 0, kind="stat", width=6, height=4,
               threshold=_threshold(Signal.STUCK_CONSUMER)),
        _panel(3, "Reconciler: seconds since last success",
               [("time() - lepton_reconciler_last_success_timestamp_seconds", "reconciler")], 12, 0, unit="s", kind="stat",
               width=6, height=4, threshold=_threshold(Signal.RECONCILER_STALE)),
        _panel(4, "Canary: seconds since last success",
               [("time() - lepton_canary_last_success_timestamp_seconds", "{{queue}}")], 18, 0, unit="s", kind="stat",
               width=6, height=4),
        _panel(5, "Throughput: subtasks/s by outcome",
               [("sum by (outcome) (rate(lepton_subtasks_finished_total[5m]))", "{{outcome}}")], 0, 4, unit="ops"),
        _panel(6, "Failures: subtasks/s (own axis)", [(f"sum(rate({FAILED}[5m]))", "failed")], 12, 4, unit="ops"),
        _panel(7, "Jobs/min submitted and finished", [
            ("sum by (queue) (rate(lepton_jobs_submitted_total[5m])) * 60", "submitted {{queue}}"),
            ("sum by (outcome) (rate(lepton_jobs_finished_total[5m])) * 60", "finished {{outcome}}"),
        ], 0, 12),
        _panel(8, "Failure ratio (5 min)", [(f"sum(rate({FAILED}[5m])) / sum(rate({FINISHED}[5m]))", "failed/finished")],
               12, 12, unit="percentunit", threshold=_threshold(Signal.FAILURE_RATIO)),
        _panel(9, "Queue depth", [("sum by (queue, state) (lepton_queue_depth)", "{{queue}} {{state}}")], 0, 20),
        _panel(10, "Oldest waiting subtask", [("lepton_queue_oldest_waiting_seconds", "{{queue}}")], 12, 20, unit="s",
               threshold=_threshold(Signal.OLDEST_WAITING)),
        _panel(11, "Queue wait latency", _quantiles("lepton_subtask_queue_wait_seconds"), 0, 28, unit="s"),
        _panel(12, "Subtask run time", _quantiles("lepton_subtask_run_seconds"), 12, 28, unit="s"),
        _panel(13, "Job end-to-end duration", _quantiles("lepton_job_duration_seconds"), 0, 36, unit="s"),
        _panel(14, "Workers by state", [("sum by (state) (lepton_workers)", "{{state}}")], 12, 36),
        _panel(15, "Consumers per queue", [("lepton_queue_consumers", "{{queue}}")], 0, 44),
        _panel(16, "Recovery events (per 5 min)", [("sum by (kind) (increase(lepton_recovery_events_total[5m]))", "{{kind}}")], 12, 44),
        _panel(17, "Subtask retries/s", [("rate(lepton_subtask_retries_total[5m])", "retries")], 0, 52, unit="ops"),
        _panel(18, "Canary failures in a row", [("lepton_canary_consecutive_failures", "{{queue}}")], 12, 52,
               threshold=_threshold(Signal.CANARY_FAILING)),
        _panel(19, "Build", [("lepton_build_info", "{{version}}")], 0, 60, kind="table", width=24, height=4),
    ]
    return {
        "__inputs": [
            {"name": "DS_PROMETHEUS", "label": "Prometheus", "type": "datasource", "pluginId": "prometheus", "pluginName": "Prometheus"}
        ],
        "uid": "lepton-overview",
        "title": "Lepton",
        "tags": ["lepton"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "panels": panels,
    }


HEADER = (
    "# Generated by `python manage.py export_monitoring --out deploy/` from\n"
    "# monitoring/alerting/defaults.py; edit those, not this file.\n"
    "# Not exported: rules on a worker's P_n (no per-host series in /metrics).\n"
    "# LeptonWatchdog always fires (in Lepton it is off by default): route it to a dead man's switch.\n"
)


def render_files():
    """{path relative to the output folder: file text}."""
    rules = yaml.safe_dump(prometheus_rules(), sort_keys=False, width=120, allow_unicode=True)
    return {
        PROMETHEUS_RULES_PATH: HEADER + rules,
        GRAFANA_DASHBOARD_PATH: json.dumps(grafana_dashboard(), indent=2) + "\n",
    }

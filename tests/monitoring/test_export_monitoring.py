"""export_monitoring: the committed Prometheus rules and Grafana dashboard are what the
shipped alert definitions generate, and name only metrics /metrics serves."""

import json
import re
from io import StringIO
from pathlib import Path

import yaml
from django.core.management import call_command

from monitoring.alerting.defaults import DEFAULT_RULES
from monitoring.alerting.export import GRAFANA_DASHBOARD_PATH, PROMETHEUS_RULES_PATH, render_files

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"

#: The metric names of /metrics: monhealth's (issue 10 §2) and alerting's own.
METRICS = {
    "lepton_jobs_submitted_total", "lepton_jobs_finished_total", "lepton_subtasks_finished_total",
    "lepton_subtask_retries_total", "lepton_subtask_queue_wait_seconds", "lepton_subtask_run_seconds",
    "lepton_job_duration_seconds", "lepton_queue_depth", "lepton_queue_oldest_waiting_seconds", "lepton_workers",
    "lepton_recovery_events_total", "lepton_reconciler_last_success_timestamp_seconds",
    "lepton_canary_last_success_timestamp_seconds", "lepton_alerts_firing", "lepton_build_info",
    "lepton_canary_consecutive_failures", "lepton_stuck_consumers", "lepton_queue_consumers",
}


def names_in(expression):
    names = set(re.findall(r"\blepton_\w+", expression))
    return {re.sub(r"_bucket$", "", name) for name in names}


def test_the_committed_files_are_what_the_command_generates(tmp_path):
    call_command("export_monitoring", "--out", str(tmp_path), stdout=StringIO())
    for relative in (PROMETHEUS_RULES_PATH, GRAFANA_DASHBOARD_PATH):
        assert (DEPLOY / relative).read_text() == (tmp_path / relative).read_text(), (
            f"deploy/{relative} is stale: run python manage.py export_monitoring --out deploy/"
        )


def test_every_shipped_rule_but_p_n_is_a_prometheus_alert_with_its_severity_and_for():
    rules = yaml.safe_load(render_files()[PROMETHEUS_RULES_PATH])["groups"][0]["rules"]
    shipped = [rule for rule in DEFAULT_RULES if rule["signal"] != "worker_p_n"]
    assert len(rules) == len(shipped)
    for exported, rule in zip(rules, shipped):
        assert exported["labels"]["severity"] == rule["severity"]
        assert exported["for"] == f"{rule['for_seconds']}s"
        assert exported["expr"].endswith(f"{rule['comparison']} {rule['threshold']:g}")


def test_the_rules_and_the_dashboard_name_only_served_metrics():
    files = render_files()
    rules = yaml.safe_load(files[PROMETHEUS_RULES_PATH])["groups"][0]["rules"]
    dashboard = json.loads(files[GRAFANA_DASHBOARD_PATH])
    expressions = [rule["expr"] for rule in rules] + [
        target["expr"] for panel in dashboard["panels"] for target in panel["targets"]
    ]
    used = set().union(*(names_in(expression) for expression in expressions))
    assert used <= METRICS
    assert {"lepton_queue_depth", "lepton_subtask_run_seconds", "lepton_alerts_firing"} <= used


def test_the_dashboard_panels_have_unique_ids_and_a_datasource_input():
    dashboard = json.loads(render_files()[GRAFANA_DASHBOARD_PATH])
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    assert dashboard["__inputs"][0]["name"] == "DS_PROMETHEUS"

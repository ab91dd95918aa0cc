"""The alerts and canary panels of the health page: context and rendering."""

from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from monitoring import panels
from monitoring.models import Alert, CanaryRun
from monitoring.panels import alerts as alerts_panel
from monitoring.panels import canary as canary_panel
from tests.monitoring.alerting_helpers import rule

pytestmark = pytest.mark.django_db


def alert(rule, state, labels, **fields):
    now = timezone.now()
    return Alert.objects.create(
        rule=rule, labels=labels, fingerprint=str(labels), state=state, started_at=now - timedelta(minutes=5),
        last_evaluated_at=now, **fields,
    )


def test_the_alerts_panel_shows_firing_pending_and_recently_resolved_alerts():
    now = timezone.now()
    backlog = rule(runbook_url="https://runbooks.example/backlog")
    alert(backlog, "firing", {"queue": "io"}, summary="queue io waited 400s", value=400.0, fired_at=now)
    alert(backlog, "pending", {"queue": "cpu"})
    alert(backlog, "resolved", {"queue": "default"}, fired_at=now - timedelta(hours=1), resolved_at=now - timedelta(minutes=1))
    alert(backlog, "resolved", {"queue": "old"}, fired_at=now - timedelta(days=3), resolved_at=now - timedelta(days=2))

    context = alerts_panel.context(now)
    html = render_to_string(alerts_panel.TEMPLATE, {"panel": context})

    assert [a.labels for a in context["firing"]] == [{"queue": "io"}]
    assert [a.labels for a in context["pending"]] == [{"queue": "cpu"}]
    assert [a.labels for a in context["resolved"]] == [{"queue": "default"}]
    assert "queue io waited 400s" in html and "https://runbooks.example/backlog" in html
    assert "queue=old" not in html
    assert "style=" not in html and "<script" not in html


def test_the_alerts_panel_says_when_nothing_fires():
    html = render_to_string(alerts_panel.TEMPLATE, {"panel": alerts_panel.context(timezone.now())})
    assert "No alert is firing." in html


def test_the_canary_panel_shows_each_queue_and_the_latest_runs(settings):
    now = timezone.now()
    CanaryRun.objects.create(queue="io", submitted_at=now - timedelta(seconds=70), finished_at=now - timedelta(seconds=69), outcome="succeeded", latency_seconds=0.812)
    CanaryRun.objects.create(queue="io", submitted_at=now - timedelta(seconds=10), finished_at=now, outcome="failed", error="did not finish within 120s")

    context = canary_panel.context(now)
    html = render_to_string(canary_panel.TEMPLATE, {"panel": context})

    io = next(row for row in context["queues"] if row["queue"] == "io")
    assert (io["last"].outcome, io["failures_in_a_row"]) == ("failed", 1)
    assert [row["queue"] for row in context["queues"]] == settings.LEPTON_QUEUES
    assert "0.812 s" in html and "did not finish within 120s" in html and "never" in html
    assert "style=" not in html and "<script" not in html


def test_the_health_page_draws_both_panels_when_listed(client, monkeypatch, django_user_model):
    monkeypatch.setattr(panels, "PANELS", ["alerts", "canary"])
    client.force_login(django_user_model.objects.create_superuser("boss", password="a-long-password-1"))

    html = client.get("/admin/monitoring/health/").content.decode()

    assert "No alert is firing." in html
    assert html.count("none yet") == 3, "one row per job queue"

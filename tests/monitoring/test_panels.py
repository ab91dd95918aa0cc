"""Panel contexts: throughput, latency windows and charts read the snapshots right."""

from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from jobs.models import Subtask
from monitoring import charts, history
from monitoring.panels import PANELS, charts as charts_panel, latency, throughput
from tests.monitoring import factories as make

pytestmark = pytest.mark.django_db


def test_every_panel_has_a_title_a_template_and_a_context():
    from importlib import import_module

    now = timezone.now()
    for name in PANELS:
        module = import_module(f"monitoring.panels.{name}")
        assert module.TITLE
        html = render_to_string(module.TEMPLATE, {"panel": module.context(now)})
        assert "<script" not in html and 'style="' not in html and " onclick" not in html


def test_throughput_counts_the_last_five_minutes_from_the_rows():
    now = timezone.now()
    job = make.job()
    for index in range(30):
        make.finished_subtask(job, index, Subtask.Status.SUCCEEDED, now - timedelta(seconds=index))
    make.finished_subtask(job, 99, Subtask.Status.FAILED, now - timedelta(seconds=10))
    make.finished_subtask(job, 100, Subtask.Status.SUCCEEDED, now - timedelta(minutes=10))

    live = throughput.context(now)["windows"][0]

    assert live["label"] == "5 min"
    assert live["subtasks_per_second"] == pytest.approx(31 / 300)
    assert live["failed"] == 1


def test_latency_windows_are_differences_of_cumulative_snapshots():
    now = timezone.now().replace(second=40, microsecond=0)
    job = make.job(type="primes", queue="cpu")
    old = now - timedelta(hours=2)
    make.finished_subtask(job, 0, Subtask.Status.SUCCEEDED, old, wait=0.01, run=100.0)
    history.take(old + timedelta(minutes=2))
    make.finished_subtask(job, 1, Subtask.Status.SUCCEEDED, now - timedelta(minutes=3), wait=0.01, run=0.6)
    history.take(now)

    rows = {row["window"]: row for row in latency.context(now)["rows"]}

    run_cell = 1  # measures: queue wait, run time, job end-to-end
    assert rows["1 h"]["cells"][run_cell]["n"] == 1
    assert rows["1 h"]["cells"][run_cell]["values"][0] < 1  # the 100 s run is older than the hour
    assert rows["24 h"]["cells"][run_cell]["n"] == 2


def test_failures_get_a_chart_of_their_own():
    now = timezone.now()
    history.take(now - timedelta(minutes=3))
    job = make.job()
    make.finished_subtask(job, 0, Subtask.Status.FAILED, now - timedelta(minutes=2))
    history.take(now)

    hour = charts_panel.context(now)["ranges"][0]

    titles = [chart["title"] for chart in hour["charts"]]
    assert titles == ["Throughput", "Failures", "Run time", "Queue wait"]
    failures = hour["charts"][1]
    assert [line["label"] for line in failures["lines"]] == ["failed subtasks/s"]
    assert not failures["empty"]


def test_nice_ceiling_rounds_the_axis_up():
    assert [charts.nice_ceiling(v) for v in (0, 0.7, 3, 42, 2500)] == [1.0, 1.0, 5, 50, 2500]


def test_the_first_snapshot_spanning_all_history_draws_no_rate():
    now = timezone.now()
    job = make.job()
    make.finished_subtask(job, 0, Subtask.Status.SUCCEEDED, now - timedelta(minutes=2))
    history.take(now)

    throughput = charts_panel.context(now)["ranges"][0]["charts"][0]

    assert throughput["empty"]

"""The short rehearsal, in the normal suite: three namespace hosts, one link cut mid-job.

`pytest -m cluster` selects it; `make cluster` runs the long form (tests/cluster/__main__.py)
with a longer job and a longer outage. It needs root (network namespaces), libfaketime
and PostgreSQL (on SQLite every host would open the same file instead of going over its
link), and skips, saying which, without them.
"""

import os
import shutil

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from tests.cluster.netns import unavailable_reason
from tests.cluster.rehearsal import CLUSTER_USER, RehearsalConfig
from tests.cluster.report import render, write_report
from tests.cluster.run import run_rehearsal
from tests.cluster.stack import skew_unavailable_reason
from tests.processes import database_url

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(420),
]


@pytest.fixture
def report():
    if reason := unavailable_reason() or skew_unavailable_reason():
        pytest.skip(reason)
    if connection.vendor != "postgresql":
        pytest.skip("hosts must reach the database over their link: run with LEPTON_DATABASE_URL=postgres://...")
    log_dir = settings.DATA_DIR / "cluster" / "logs" / "short"
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    get_user_model().objects.create_user(CLUSTER_USER)
    config = RehearsalConfig(subtasks=48, sleep_ms=1000, rejoin_subtasks=24, timeout=120.0)
    report = run_rehearsal(config, dict(os.environ), log_dir, database_url())
    print(render(report))
    write_report(report, settings.DATA_DIR / "cluster")
    return report


def test_a_cut_host_fails_over_rejoins_and_nothing_is_lost_or_counted_twice(report):
    table = render(report)
    hosts = report["hosts"]
    first, second = report["jobs"]
    cut = next(host for host in hosts.values() if host["hostname"] == report["cut_host"])
    skewed = [host for host in hosts.values() if host["skew"]]

    assert sum(1 for host in hosts.values() if host["counted"][0]) >= 2, table
    assert report["requeue_s"] is not None and report["requeue_s"] <= report["requeue_bound_s"], table
    assert report["rerun_s"] <= report["rerun_bound_s"], table
    assert report["finished_elsewhere_s"] is not None, table
    assert cut["counted"][1] > 0, table
    for job in (first, second):
        assert (job["status"], job["exact"], job["lost"], job["double_counted"]) == ("succeeded", True, 0, 0), table
    assert skewed and all(host["counted"][0] + host["counted"][1] > 0 for host in skewed), table
    assert all(host["leases_lapsed"] == 0 for host in skewed), table
    assert not report["violations"], table

"""The short soak, in the normal suite: a fixed seed, under a minute of jobs and faults.

`pytest -m soak` selects it; `make soak` runs the long form (tests/soak/__main__.py).
Like the chaos suite it runs its own embedded Redis (it flushes and restarts it), even
when LEPTON_TEST_REDIS_URL names a shared one.
"""

import os
import shutil

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from tests.processes import database_url
from tests.soak.run import SOAK_USER, SoakConfig, print_report, run_soak, write_report
from tests.soak.stack import SOAK_ENV
from tests.soak.verdict import render

pytestmark = [
    pytest.mark.soak,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(600),
]

SEED = 20261130


def test_it_ends_every_job_correctly_under_random_faults():
    log_dir = settings.DATA_DIR / "soak" / "logs" / "short"
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    get_user_model().objects.create_user(SOAK_USER)
    env = {**os.environ, **SOAK_ENV, "LEPTON_DATABASE_URL": database_url()}
    config = SoakConfig(seed=SEED, seconds=45, fault_every=3, drain_seconds=150)
    report = run_soak(config, env, log_dir)
    print_report(report, write_report(report, settings.DATA_DIR / "soak"))
    assert report["jobs_submitted"] >= 10, render(report)
    assert not report["violations"], render(report)

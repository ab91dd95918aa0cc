"""Issue 8: jobs that used to stall end at once, on real workers over a real Redis."""

import time

import pytest

from jobs.models import RecoveryEvent
from tests.integration.conftest import wait_for_job
from tests.integration.test_pipeline import submit

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


# --- Case 1: unstorable partials and results fail at once ---------------------------

@pytest.mark.parametrize(
    "kind, shown",
    [(0, "the number nan"), (1, "the number inf"), (2, "a set"), (3, "a bytes"), (4, "<an opaque object>")],
)
def test_a_partial_that_cannot_be_stored_fails_the_job_at_once_naming_the_type_and_value(platform, api, kind, shown):
    started = time.monotonic()
    job = wait_for_job(submit(api, "unstorable", {"subtasks": 1, "seed": kind}), timeout=30)

    assert job.status == "failed"
    assert "job type 'unstorable'" in job.error and shown in job.error
    assert time.monotonic() - started < 15, "failed at once, not after leases lapsed"
    assert not RecoveryEvent.objects.filter(job=job).exists(), "nothing was healed or re-sent"


def test_a_result_that_cannot_be_stored_fails_the_job_at_once(platform, api):
    job = wait_for_job(submit(api, "unstorable_result", {"subtasks": 2}), timeout=30)

    assert job.status == "failed"
    assert "job type 'unstorable_result' returned a result that cannot be stored" in job.error
    assert "nan" in job.error
    assert not RecoveryEvent.objects.filter(job=job, kind="finalize_resent").exists()


def test_stats_over_huge_magnitudes_succeeds_like_the_statistics_module(platform, api):
    job = wait_for_job(submit(api, "stats", {"values": [1e200, 1e200], "chunk_size": 1}), timeout=30)

    assert job.status == "succeeded", job.error
    # Stored as written on every database (jobs.jsoncolumn): still a float, not 201 digits.
    assert job.result["stdev"] == 0.0 and job.result["mean"] == 1e200 and isinstance(job.result["mean"], float)


# --- Case 2: combine runs under its own time limit ----------------------------------

def test_combine_runs_under_its_own_limit_not_the_last_subtasks(platform, api):
    job = wait_for_job(submit(api, "slow_combine", {"subtasks": 2, "sleep_ms": 1000}), timeout=60)

    assert job.status == "succeeded", job.error
    assert job.result == {"subtasks": 2, "index_sum": 1}

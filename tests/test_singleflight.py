"""Single-flight housekeeping: one pass at a time, skipped (not queued) while held."""

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.models import Housekeeping
from jobs.singleflight import SKIPPED, run_exclusively

pytestmark = pytest.mark.django_db


def test_it_runs_the_task_and_records_success():
    assert run_exclusively("reconcile", lambda: 7, lease_seconds=30) == 7
    row = Housekeeping.objects.get(name="reconcile")
    assert row.last_succeeded_at is not None
    assert row.holder == "" and row.lease_expires_at is None
    assert row.last_duration >= 0


def test_a_pass_started_inside_a_running_pass_is_skipped():
    inner = []
    outer = run_exclusively("reconcile", lambda: inner.append(run_exclusively("reconcile", lambda: "ran", 30)) or "outer", 30)
    assert outer == "outer"
    assert inner == [SKIPPED]


def test_another_task_name_is_not_blocked():
    inner = []
    run_exclusively("reconcile", lambda: inner.append(run_exclusively("review_workers", lambda: "ran", 30)), 30)
    assert inner == ["ran"]


def test_a_lapsed_lease_is_taken_over():
    Housekeeping.objects.create(
        name="reconcile", holder="dead-host:1", lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert run_exclusively("reconcile", lambda: "ran", 30) == "ran"


def test_a_live_lease_of_another_holder_skips():
    Housekeeping.objects.create(
        name="reconcile", holder="other-host:1", lease_expires_at=timezone.now() + timedelta(seconds=60)
    )
    assert run_exclusively("reconcile", lambda: "ran", 30) == SKIPPED
    assert Housekeeping.objects.get(name="reconcile").holder == "other-host:1"


def test_a_failing_pass_records_its_error_and_frees_the_lease():
    def boom():
        raise ValueError("bad row 12")

    with pytest.raises(ValueError):
        run_exclusively("reconcile", boom, 30)
    row = Housekeeping.objects.get(name="reconcile")
    assert "bad row 12" in row.last_error
    assert row.last_failed_at is not None and row.last_succeeded_at is None
    assert run_exclusively("reconcile", lambda: "ran", 30) == "ran"

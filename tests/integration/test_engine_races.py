"""Issue 8: races and bad rows the reconciler and the claim must survive, run in-process
against the test database and a real Redis. Interleavings are made deterministic by
running the racing action (a retry, a cancel, a combine taking its lease) at the
exact point between the reconciler's scan and its UPDATE."""

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs import execution, hot_sql, reconcile as reconciler
from jobs.control import cancel_job, delete_job, retry_job
from jobs.dispatch import refill
from jobs.execution import InvalidPairs, run
from jobs.models import Job, RecoveryEvent, Subtask
from jobs.reconcile import reconcile
from jobs.tasks import run_subtasks
from tests.integration.conftest import sent

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


class NoRenewer:
    """Stands in for the lease-renewer thread, which would write from another connection."""

    def hold(self, *args):
        pass

    release = hold


@pytest.fixture
def in_process(monkeypatch):
    monkeypatch.setattr(execution, "renewer", NoRenewer())


def past(seconds=1):
    return timezone.now() - timedelta(seconds=seconds)


def run_between_scan_and_update(monkeypatch, action):
    """Run `action()` once, right after the reconciler's scan, before it changes a row."""
    original = reconciler.known_type_rows

    def racing(rows, now):
        action()
        return original(rows, now)

    monkeypatch.setattr(reconciler, "known_type_rows", racing)


# --- Case 3: a retry racing the reconciler -----------------------------------------

def test_a_retry_committed_after_the_lapsed_lease_scan_leaves_no_canceled_subtask_in_a_running_job(
    job, parked, monkeypatch
):
    Job.objects.filter(pk=job.pk).update(status="failed")
    Subtask.objects.filter(job=job, index=0).update(status="running", worker="w1@host", tries=1, lease_expires_at=past())
    run_between_scan_and_update(monkeypatch, lambda: retry_job(job.pk))

    reconcile()

    job.refresh_from_db()
    assert job.status == "running"
    assert not job.subtasks.filter(status="canceled").exists()


def test_a_retry_committed_after_the_due_retry_scan_leaves_no_canceled_subtask_in_a_running_job(
    job, parked, monkeypatch
):
    Job.objects.filter(pk=job.pk).update(status="failed")
    Subtask.objects.filter(job=job, index=1).update(status="retry_wait", attempt=2, retry_at=past())
    Subtask.objects.filter(job=job, index=0).update(status="failed")
    run_between_scan_and_update(monkeypatch, lambda: retry_job(job.pk))

    reconcile()

    job.refresh_from_db()
    assert job.status == "running"
    assert not job.subtasks.filter(status="canceled").exists()


# --- Case 11: a cancel racing a requeue ---------------------------------------------

def test_a_cancel_committed_after_the_scan_stops_the_requeue(job, parked, monkeypatch):
    Subtask.objects.filter(job=job, index=0).update(status="running", worker="w1@host", tries=1, lease_expires_at=past())
    run_between_scan_and_update(monkeypatch, lambda: cancel_job(job.pk))

    reconcile()

    assert job.subtasks.get(index=0).status == "running", "not requeued into a canceled job"
    reconcile()
    assert job.subtasks.get(index=0).status == "canceled"
    assert not [name for name, _ in sent(parked) if name == "jobs.tasks.run_subtasks"]


def test_a_claim_never_starts_a_subtask_of_a_job_that_is_not_running(job, in_process):
    subtask = job.subtasks.get(index=0)
    cancel_job(job.pk)
    Subtask.objects.filter(pk=subtask.pk).update(status="queued")  # as a racing requeue left it

    assert run([[subtask.pk, subtask.attempt]], "w1@host") == 0

    subtask.refresh_from_db()
    assert subtask.status == "canceled" and subtask.tries == 0


def test_a_job_canceled_and_deleted_right_after_the_claim_ends_the_task_quietly(job, in_process, monkeypatch):
    subtask = job.subtasks.get(index=0)
    Subtask.objects.filter(pk=subtask.pk).update(status="queued")
    original = hot_sql.claim

    def claim_then_user_deletes(pairs, worker, pid):
        rows = original(pairs, worker, pid)
        cancel_job(job.pk)
        assert delete_job(job.pk)
        return rows

    monkeypatch.setattr(hot_sql, "claim", claim_then_user_deletes)

    assert run([[subtask.pk, subtask.attempt]], "w1@host") == 0
    assert not Job.objects.filter(pk=job.pk).exists()


# --- Case 12: the reconciler clears a combine lease only while it is lapsed ----------

def test_a_combine_that_took_its_lease_after_the_scan_keeps_it(job, parked, monkeypatch):
    Job.objects.filter(pk=job.pk).update(status="finalizing", lease_expires_at=past())
    original = reconciler._each

    def combine_starts_first(rows, act):
        Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() + timedelta(seconds=30))
        return original(rows, act)

    monkeypatch.setattr(reconciler, "_each", combine_starts_first)

    assert reconcile()["finalize_resent"] == 0
    job.refresh_from_db()
    assert job.lease_expires_at is not None
    assert sent(parked) == []


def test_a_combine_that_keeps_dying_fails_the_job_after_the_attempt_limit(job, parked, settings):
    settings.LEPTON_MAX_COMBINE_ATTEMPTS = 3
    Job.objects.filter(pk=job.pk).update(status="finalizing", lease_expires_at=past(), combine_attempts=3)

    reconcile()

    job.refresh_from_db()
    assert job.status == "failed"
    assert "combine failed: it started 3 times and never finished" in job.error


# --- Case 4: one job of an unknown type --------------------------------------------

def test_a_job_of_an_unknown_type_is_marked_skipped_then_failed_and_the_others_heal(job, parked, owner, settings):
    other = job
    stranger_job = Job.objects.create(owner=owner, type="removed_in_a_deploy", queue=parked_queue(), total=1, status="running")
    Subtask.objects.create(
        job=stranger_job, index=0, payload={}, status="running", attempt=1, tries=1,
        worker="w1@host", lease_expires_at=past(),
    )
    Subtask.objects.filter(job=other, index=0).update(status="running", worker="w1@host", tries=1, lease_expires_at=past())
    settings.LEPTON_UNKNOWN_TYPE_GRACE_SECONDS = 3600

    result = reconcile()

    assert result["errors"] == 0
    assert other.subtasks.get(index=0).status == "queued", "the rest of the pass went on"
    assert RecoveryEvent.objects.filter(job=stranger_job, kind="unknown_type").count() == 1
    stranger_job.refresh_from_db()
    assert stranger_job.status == "running"

    reconcile()
    assert RecoveryEvent.objects.filter(job=stranger_job, kind="unknown_type").count() == 1, "marked once"

    settings.LEPTON_UNKNOWN_TYPE_GRACE_SECONDS = 0
    reconcile()
    stranger_job.refresh_from_db()
    assert stranger_job.status == "failed"
    assert "job type 'removed_in_a_deploy' is not installed" in stranger_job.error


def test_a_bad_row_is_recorded_and_the_rest_of_the_pass_goes_on(job, parked, monkeypatch):
    Subtask.objects.filter(job=job, index__in=[0, 1]).update(
        status="running", worker="w1@host", tries=1, lease_expires_at=past()
    )
    bad = job.subtasks.get(index=0).pk
    original = reconciler.requeue_running

    def fails_on_one_row(row, *args, **kwargs):
        if row["id"] == bad:
            raise RuntimeError("a row nobody foresaw")
        return original(row, *args, **kwargs)

    monkeypatch.setattr(reconciler, "requeue_running", fails_on_one_row)

    reconcile()

    assert job.subtasks.get(index=1).status == "queued"
    event = RecoveryEvent.objects.get(kind="reconcile_error")
    assert (event.job_id, event.subtask_index) == (job.pk, 0)
    assert "a row nobody foresaw" in event.detail


def test_refilling_a_job_of_an_unknown_type_sends_nothing_and_raises_nothing(job, parked):
    row = Job.objects.values(*Job.PROGRESS_FIELDS).get(pk=job.pk)
    refill(job.pk, {**row, "type": "removed_in_a_deploy"})
    assert sent(parked) == []


def parked_queue():
    from tests.integration.conftest import PARKED

    return PARKED


# --- Case 5: the reconciler never runs user code --------------------------------------

def test_a_last_subtask_failed_by_the_reconciler_has_its_combine_sent_not_run(
    job, parked, django_capture_on_commit_callbacks
):
    Job.objects.filter(pk=job.pk).update(max_failures=5)
    Subtask.objects.filter(job=job, index__in=[1, 2]).update(status="succeeded", result=1)
    Job.objects.filter(pk=job.pk).update(done=2)
    Subtask.objects.filter(job=job, index=0).update(status="running", worker="w1@host", tries=9, lease_expires_at=past())

    with django_capture_on_commit_callbacks(execute=True):
        reconcile()

    job.refresh_from_db()
    assert job.status == "finalizing", "combine did not run in the reconciler"
    assert [name for name, _ in sent(parked)] == ["jobs.tasks.finalize_job"]


# --- Case 13: task arguments are validated -------------------------------------------

@pytest.mark.parametrize("pairs", [[], None, "1,1", [[1]], [[1, 2, 3]], [["1", 1]], [[1, True]], [[0, 1]], [1, 2]])
def test_malformed_pairs_touch_no_row(job, in_process, pairs):
    before = list(Subtask.objects.order_by("pk").values_list("status", "attempt", "tries"))

    with pytest.raises(InvalidPairs):
        run(pairs, "w1@host")

    assert list(Subtask.objects.order_by("pk").values_list("status", "attempt", "tries")) == before


def test_the_task_refuses_an_empty_list_without_a_retry(job, in_process):
    assert run_subtasks.apply(args=[[]]).get() == 0
    assert not Subtask.objects.filter(status="running").exists()


def test_an_empty_attempt_filter_is_an_error_not_every_row():
    with pytest.raises(ValueError):
        Subtask.at_attempts([])


# --- Case 7: results that cannot be recorded -------------------------------------------

def test_claims_a_database_error_interrupted_are_handed_back_for_the_retry(job, in_process, monkeypatch):
    from django.db import OperationalError

    subtask = job.subtasks.get(index=0)

    def database_down(*args):
        raise OperationalError("database is locked")

    monkeypatch.setattr(execution, "_record_successes", database_down)
    with pytest.raises(OperationalError):
        run([[subtask.pk, subtask.attempt]], "w1@host")

    subtask.refresh_from_db()
    assert (subtask.status, subtask.attempt, subtask.tries) == ("queued", 1, 0)

    monkeypatch.undo()
    monkeypatch.setattr(execution, "renewer", NoRenewer())
    assert run([[subtask.pk, subtask.attempt]], "w1@host") == 1, "the retry really runs"
    assert job.subtasks.get(index=0).status == "succeeded"


def test_a_partial_the_database_refuses_fails_that_subtask_and_the_rest_are_recorded(job, in_process, monkeypatch):
    from django.db import DataError

    Subtask.objects.filter(job=job, index=1).update(status="queued", attempt=1)
    first, second = job.subtasks.get(index=0), job.subtasks.get(index=1)
    original = execution._fenced

    class Refusing:
        def __init__(self, queryset):
            self.queryset = queryset

        def update(self, **changes):
            if changes.get("status") == "succeeded":
                raise DataError("unsupported Unicode escape sequence")
            return self.queryset.update(**changes)

    def refusing_batch(claimed):
        # One statement writes the batch: the database refuses all of it for one bad value.
        if any(subtask_id == first.pk for subtask_id, _, _ in claimed):
            raise DataError("unsupported Unicode escape sequence")
        return original_batch(claimed)

    original_batch = execution.hot_sql.write_successes
    monkeypatch.setattr(execution.hot_sql, "write_successes", refusing_batch)
    monkeypatch.setattr(
        execution, "_fenced", lambda claim: Refusing(original(claim)) if claim.index == 0 else original(claim)
    )
    Job.objects.filter(pk=job.pk).update(max_failures=5)

    assert run([[first.pk, 1], [second.pk, 1]], "w1@host") == 2

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == "failed" and "database refused the partial of job type 'diagnostic'" in first.error
    assert second.status == "succeeded"
    job.refresh_from_db()
    assert (job.done, job.failed) == (1, 1)

"""The combine step run by the worker that records a job's last subtasks (finalize.combine_here),
in-process against the test database and a real Redis: still once, under the job's lease,
sent as a finalize_job message whenever running it there could not keep its limit,
reading the job's params only if it looks at them, and tried again when the database
fails under it."""

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from jobs import execution, finalize, hot_sql, registry
from jobs.execution import run
from jobs.models import Job, JobParams, Subtask
from tests.integration.conftest import sent

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


class NoRenewer:
    """Stands in for the lease-renewer thread, which would write from another connection."""

    def hold(self, *args):
        pass

    release = hold_job = release_job = hold


@pytest.fixture
def last_subtask(job, monkeypatch):
    """The job's subtask 0, queued at attempt 1, with subtasks 1 and 2 already succeeded."""
    monkeypatch.setattr(execution, "renewer", NoRenewer())
    monkeypatch.setattr(finalize, "renewer", NoRenewer())
    for index in (1, 2):
        Subtask.objects.filter(job=job, index=index).update(status="succeeded", attempt=1, result=index)
    Job.objects.filter(pk=job.pk).update(done=2)
    return job.subtasks.get(index=0)


def test_the_worker_recording_the_last_subtask_combines_and_sends_no_message(job, parked, last_subtask):
    assert run([[last_subtask.pk, 1]], "w1@host") == 1

    job.refresh_from_db()
    assert (job.status, job.result) == ("succeeded", {"subtasks": 3, "index_sum": 3})
    assert (job.combine_attempts, job.lease_expires_at) == (1, None)
    assert sent(parked) == []


def test_a_type_with_its_own_combine_limit_gets_a_finalize_message(
    job, parked, last_subtask, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(registry.get("diagnostic"), "combine_time_limit", 30.0)

    with django_capture_on_commit_callbacks(execute=True):
        run([[last_subtask.pk, 1]], "w1@host")

    job.refresh_from_db()
    assert job.status == "finalizing"
    assert [name for name, _ in sent(parked)] == ["jobs.tasks.finalize_job"]


def test_a_combine_stopped_by_the_message_time_limit_is_handed_to_a_finalize_message(
    job, parked, last_subtask, monkeypatch
):
    def stopped(partials, params):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(registry.get("diagnostic"), "combine", stopped)

    run([[last_subtask.pk, 1]], "w1@host")

    job.refresh_from_db()
    assert job.status == "finalizing", "not failed: the step gets its whole limit in its own message"
    assert (job.combine_attempts, job.lease_expires_at) == (0, None)
    assert [name for name, _ in sent(parked)] == ["jobs.tasks.finalize_job"]


def test_the_move_to_finalizing_takes_the_steps_lease_so_no_other_process_can_take_it(
    job, parked, last_subtask, monkeypatch
):
    combine = registry.get("diagnostic").combine
    seen = []

    def combine_and_look(partials, params):
        seen.append(Job.objects.values_list("status", "combine_attempts").get(pk=job.pk))
        seen.append(finalize.finalize(job.pk))  # another process, sent the step meanwhile
        return combine(partials, params)

    monkeypatch.setattr(registry.get("diagnostic"), "combine", combine_and_look)

    run([[last_subtask.pk, 1]], "w1@host")

    job.refresh_from_db()
    assert seen == [("finalizing", 1), "stale"]
    assert (job.status, job.combine_attempts, job.lease_expires_at) == ("succeeded", 1, None)
    assert sent(parked) == []


def test_a_one_subtask_job_is_claimed_run_and_combined_in_eight_statements(job, parked, monkeypatch):
    """Each statement here is paid on every job's latency path; none reads back what it wrote."""
    monkeypatch.setattr(execution, "renewer", NoRenewer())
    monkeypatch.setattr(finalize, "renewer", NoRenewer())
    Subtask.objects.filter(job=job).exclude(index=0).delete()
    Job.objects.filter(pk=job.pk).update(total=1, status="queued")
    pair = [job.subtasks.get().pk, 1]

    with CaptureQueriesContext(connection) as queries:
        run([pair], "w1@host")

    assert Job.objects.get(pk=job.pk).status == "succeeded"
    # PostgreSQL reads the partials through a server-side cursor: DECLARE is its SELECT.
    statements = [query["sql"].split()[0].upper().replace("DECLARE", "SELECT") for query in queries]
    assert [s for s in statements if s not in ("BEGIN", "SAVEPOINT", "RELEASE")] == [
        "UPDATE",  # claim
        "SELECT", "UPDATE",  # the job's type; queued -> running
        "UPDATE", "UPDATE",  # the success; the job's count
        "UPDATE",  # -> finalizing, with the combine's lease
        "SELECT",  # partials
        "UPDATE",  # the result
    ], [query["sql"][:60] for query in queries]


def test_the_partials_are_read_in_subtask_order_in_batches_as_the_orm_decodes_them(job):
    partials = {2: {"n": [1, 2.5, None], "deep": [{"x": True}]}, 0: "text"}
    for index, result in partials.items():
        Subtask.objects.filter(job=job, index=index).update(status="succeeded", result=result)
    Subtask.objects.filter(job=job, index=1).update(status="failed", result=99)
    orm = list(
        Subtask.objects.filter(job=job, status="succeeded").order_by("index").values_list("result", flat=True)
    )

    assert list(hot_sql.succeeded_partials(job.pk, batch=1)) == orm == [partials[0], partials[2]]
    first_only = hot_sql.succeeded_partials(job.pk, batch=1)
    assert next(first_only) == "text"
    first_only.close()  # a combine that stops early leaves no cursor open


def params_reads(queries):
    return [query for query in queries if JobParams._meta.db_table in query["sql"]]


def test_a_combine_that_never_looks_at_the_params_never_reads_them(job, parked, last_subtask):
    with CaptureQueriesContext(connection) as queries:
        run([[last_subtask.pk, 1]], "w1@host")

    assert Job.objects.get(pk=job.pk).status == "succeeded"
    assert params_reads(queries) == []


def test_a_combine_that_looks_reads_the_params_once(job, parked, last_subtask, monkeypatch):
    def with_params(partials, params):
        return {"subtasks": params["subtasks"], "keys": sorted(params), "size": len(params), "none": params.get("x")}

    monkeypatch.setattr(registry.get("diagnostic"), "combine", with_params)
    with CaptureQueriesContext(connection) as queries:
        run([[last_subtask.pk, 1]], "w1@host")

    job.refresh_from_db()
    params = job.input.params
    assert job.result == {"subtasks": 3, "keys": sorted(params), "size": len(params), "none": None}
    assert len(params_reads(queries)) == 1


def test_a_database_error_under_the_combine_leaves_the_step_to_be_tried_again(
    job, parked, last_subtask, monkeypatch
):
    combine = registry.get("diagnostic").combine

    def database_gone(partials, params):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(registry.get("diagnostic"), "combine", database_gone)
    with pytest.raises(OperationalError):
        run([[last_subtask.pk, 1]], "w1@host")

    job.refresh_from_db()
    assert (job.status, job.combine_attempts) == ("finalizing", 1), "not failed: the database failed, not the combine"

    monkeypatch.setattr(registry.get("diagnostic"), "combine", combine)
    Job.objects.filter(pk=job.pk).update(lease_expires_at=None)  # as when its lease runs out
    assert finalize.finalize(job.pk) == "succeeded"
    assert Job.objects.get(pk=job.pk).result == {"subtasks": 3, "index_sum": 3}

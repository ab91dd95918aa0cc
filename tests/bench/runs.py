"""How scenarios run and time work: Lepton jobs from the bench process, raw Celery
canvases, the peer over HTTP, the database's size, and waiting for quiet between runs."""

import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from jobs.control import cancel_job
from jobs.models import Job, Priority
from jobs.submit import submit_job
from tests.bench import rawapp
from tests.bench.api import ApiClient
from tests.bench.harness import BENCH_USER
from tests.bench.peer import settings as peer_settings

#: How long a scenario waits for a job before calling it an error.
JOB_TIMEOUT = 1800
#: How often the end of a run is looked for: Lepton's Job row is polled this often, and
#: raw Celery's `get()` drains results with this interval (its default, 0.5 s, adds up
#: to half a second to every group or chord: a group of one no-op takes 0.50 s to `get()`).
POLL = 0.02
#: The peer's task queue (tests/bench/peer/settings.py).
PEER_QUEUE = peer_settings.CELERY["task_default_queue"]


class ScenarioError(Exception):
    """The run itself went wrong (a job failed or never finished): not a measurement."""


def database_bytes():
    """Bytes the database's data takes: SQLite's used pages (the WAL's included, which
    page_count sees), or PostgreSQL's pg_database_size."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT (page_count - freelist_count) * page_size FROM pragma_page_count, "
                           "pragma_freelist_count, pragma_page_size")
        else:
            cursor.execute("SELECT pg_database_size(current_database())")
        return cursor.fetchone()[0]


# --- Lepton jobs from the bench process ---------------------------------------------


def bench_user(name=BENCH_USER):
    return get_user_model().objects.get_or_create(username=name)[0]


def submit(type_name, params, owner=None, priority=Priority.NORMAL):
    job, _ = submit_job(owner or bench_user(), type_name, params, priority)
    return job.pk


def wait_for_job(job_id, poll=POLL, timeout=JOB_TIMEOUT):
    """Poll the job's row until it is final; returns when (perf_counter) it was seen succeeded.

    Each look is one statement written as SQL: through the ORM a look cost this process
    0.3 ms of CPU, taken from the two cores the platform under test runs on, several
    times per job in the latency scenario.
    """
    quote = connection.ops.quote_name
    status, error, pk = (quote(Job._meta.get_field(name).column) for name in ("status", "error", "id"))
    statement = f"SELECT {status}, {error} FROM {quote(Job._meta.db_table)} WHERE {pk} = %s"
    deadline = time.monotonic() + timeout
    while True:
        with connection.cursor() as cursor:
            cursor.execute(statement, [job_id])
            status, error = cursor.fetchone()
        if status == Job.Status.SUCCEEDED:
            return time.perf_counter()
        if status in Job.FINAL:
            raise ScenarioError(f"job {job_id} {status}: {error}")
        if time.monotonic() > deadline:
            raise ScenarioError(f"job {job_id} still {status} after {timeout}s")
        time.sleep(poll)


def timed_job(type_name, params, poll=POLL):
    """Seconds from submit (in this process, through submit_job) to succeeded."""
    started = time.perf_counter()
    job_id = submit(type_name, params)
    return wait_for_job(job_id, poll) - started


def raw_timed(platform, send):
    """(seconds, result) from calling send() (it builds and sends a raw canvas) to its result."""
    started = time.perf_counter()
    result = send().get(timeout=JOB_TIMEOUT, interval=POLL)
    elapsed = time.perf_counter() - started
    platform.forget_raw_results()
    return elapsed, result


def settle(platform, timeout=600):
    """Wait until no Lepton job is active and no job queue (raw and peer included) holds a message."""
    queues = [*settings.LEPTON_QUEUES, rawapp.QUEUE, PEER_QUEUE]
    deadline = time.monotonic() + timeout
    while Job.objects.filter(status__in=Job.ACTIVE).exists() or platform.queue_depth(queues):
        if time.monotonic() > deadline:
            raise ScenarioError(f"the platform did not settle within {timeout}s")
        time.sleep(0.1)


def cancel_active_jobs():
    for job_id in Job.objects.filter(status__in=Job.ACTIVE).values_list("pk", flat=True):
        cancel_job(job_id)


# --- The peer, over HTTP as its users drive it ------------------------------------


def peer_timed(port, path, body, poll=POLL, group=False):
    """(seconds, final status) from POSTing body to the peer until its status view says
    the work is done; a group's view counts its finished tasks, a task's (or chord's
    callback's) view gives its state."""
    api = ApiClient(port, None)
    try:
        started = time.perf_counter()
        status, created = api.request("POST", path, body)
        if status != 201:
            raise ScenarioError(f"the peer answered {status} to POST {path}: {str(created)[:300]}")
        where = f"/groups/{created['id']}/" if group else f"/tasks/{created['id']}/"
        deadline = time.monotonic() + JOB_TIMEOUT
        while True:
            status, state = api.request("GET", where)
            if status != 200:
                raise ScenarioError(f"the peer answered {status} to GET {where}: {str(state)[:300]}")
            if group and state["failed"] or not group and state["status"] == "FAILURE":
                raise ScenarioError(f"the peer's work failed: {str(state)[:300]}")
            if (state["succeeded"] == state["total"]) if group else state["status"] == "SUCCESS":
                return time.perf_counter() - started, state
            if time.monotonic() > deadline:
                raise ScenarioError(f"the peer's {where} still unfinished after {JOB_TIMEOUT}s")
            time.sleep(poll)
    finally:
        api.close()

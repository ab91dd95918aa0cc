"""Statements on subtask rows written by hand where the ORM's per-row cost shows.

Inserting a job's rows (`render`, `insert`): SQLite has one write lock, taken at BEGIN
(IMMEDIATE transactions), and every lease renewal waits behind it. Django's bulk_create
builds each row's SQL in Python inside the transaction: a 100,000-subtask submission held
the lock for about a minute on a loaded two-core machine, five lease lifetimes. So the
rows are rendered before the transaction (database-ready values) and inserted inside it
with plain `executemany` batches, which SQLite runs in well under a second. See
tests/bench/write_lock.py.

Recording a batch's results (`write_successes`): one prepared statement for every row.
"""

from django.db import connection

from jobs.clock import Now
from jobs.models import Subtask

#: Rows per executemany call.
INSERT_BATCH = 5000

_FIELDS = ("index", "payload", "status", "attempt", "tries", "worker", "message", "queued_at", "error")


def render(payloads, window, now):
    """Database-ready values for each subtask row except job_id: the first `window`
    go straight to `queued` (attempt 1, one per message), the rest wait as `pending`."""
    payload_field = Subtask._meta.get_field("payload")
    queued_at = Subtask._meta.get_field("queued_at").get_db_prep_save(now, connection)
    queued, pending = Subtask.Status.QUEUED.value, Subtask.Status.PENDING.value
    return [
        (index, payload_field.get_db_prep_save(payload, connection), queued, 1, 0, "", index, queued_at, "")
        if index < window
        else (index, payload_field.get_db_prep_save(payload, connection), pending, 0, 0, "", None, None, "")
        for index, payload in enumerate(payloads)
    ]


def insert(job_id, rows):
    """Insert rendered rows of job `job_id`; the caller holds the transaction."""
    quote = connection.ops.quote_name
    columns = ["job_id", *(Subtask._meta.get_field(name).column for name in _FIELDS)]
    sql = (
        f"INSERT INTO {quote(Subtask._meta.db_table)} ({', '.join(map(quote, columns))}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), INSERT_BATCH):
            cursor.executemany(sql, [(job_id, *row) for row in rows[start : start + INSERT_BATCH]])


def first_window(job_id, window):
    """(id, attempt) of the subtasks `render` queued, in index order, to publish."""
    return list(
        Subtask.objects.filter(job_id=job_id, index__lt=window).order_by("index").values_list("id", "attempt")
    )


def write_successes(claimed):
    """Mark (subtask id, attempt, partial) rows succeeded, each only while its attempt
    still holds the claim (status running at that attempt); returns how many were written.

    One prepared statement run for every row (executemany). Through the ORM, building the
    statements cost far more CPU than the database spent running them: in a profiled
    3,000-subtask job, a fenced UPDATE per row took 8.1 s of the worker's 36.9 s, one
    UPDATE with a CASE branch per row 7.5 s, this 0.5 s. `finished_at` is the database's
    clock, as Now() stamps it.
    """
    quote = connection.ops.quote_name
    meta = Subtask._meta
    result_field = meta.get_field("result")
    compiler = Subtask.objects.none().query.get_compiler(connection=connection)
    now_sql, now_params = compiler.compile(Now())
    column = {
        name: quote(meta.get_field(name).column)
        for name in ("status", "result", "finished_at", "lease_expires_at", "attempt")
    }
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {column['status']} = %s, {column['result']} = %s, "
        f"{column['finished_at']} = {now_sql}, {column['lease_expires_at']} = NULL "
        f"WHERE {quote(meta.pk.column)} = %s AND {column['attempt']} = %s AND {column['status']} = %s"
    )
    succeeded, running = Subtask.Status.SUCCEEDED.value, Subtask.Status.RUNNING.value
    rows = [
        (succeeded, result_field.get_db_prep_save(result, connection), *now_params, subtask_id, attempt, running)
        for subtask_id, attempt, result in claimed
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
        return cursor.rowcount

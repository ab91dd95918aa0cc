"""Statements on subtask rows written by hand where the ORM's per-row cost shows.

Inserting a job's rows (`render`, `insert`): SQLite has one write lock, taken at BEGIN
(IMMEDIATE transactions), and every lease renewal waits behind it. Django's bulk_create
builds each row's SQL in Python inside the transaction: a 100,000-subtask submission held
the lock for about a minute on a loaded two-core machine, five lease lifetimes. So the
rows are rendered before the transaction (database-ready values) and inserted inside it
with plain `executemany` batches, which SQLite runs in well under a second. See
tests/bench/write_lock.py.

Recording a batch's results (`write_successes`): one statement for the whole batch.
"""

from django.db import connection

from jobs.clock import Now
from jobs.models import Subtask

#: Rows per executemany call.
INSERT_BATCH = 5000
#: Rows per multi-row statement (an INSERT ... RETURNING, an UPDATE from a VALUES list):
#: at most ten parameters each, far below SQLite's and PostgreSQL's limits per statement.
ROWS_PER_STATEMENT = 500

_FIELDS = ("index", "payload", "status", "attempt", "tries", "worker", "message", "queued_at", "error")


def render(payloads, window, now):
    """Database-ready values for each subtask row except job_id: the first `window`
    go straight to `queued` (attempt 1, one per message), the rest wait as `pending`.
    `payloads` may be JSON values or their texts already (jobs.encoding.EncodedJSON)."""
    payload_field = Subtask._meta.get_field("payload")
    queued_at = Subtask._meta.get_field("queued_at").get_db_prep_save(now, connection)
    queued, pending = Subtask.Status.QUEUED.value, Subtask.Status.PENDING.value
    return [
        (index, payload_field.get_db_prep_save(payload, connection), queued, 1, 0, "", index, queued_at, "")
        if index < window
        else (index, payload_field.get_db_prep_save(payload, connection), pending, 0, 0, "", None, None, "")
        for index, payload in enumerate(payloads)
    ]


def insert(job_id, rows, window):
    """Insert rendered rows of job `job_id`; the caller holds the transaction. Returns
    (id, attempt) of the first `window` rows, the ones `render` queued, in index order,
    to publish: they are inserted with RETURNING, so no SELECT reads them back."""
    quote = connection.ops.quote_name
    columns = ["job_id", *(Subtask._meta.get_field(name).column for name in _FIELDS)]
    head = f"INSERT INTO {quote(Subtask._meta.db_table)} ({', '.join(map(quote, columns))}) VALUES "
    placeholders = f"({', '.join(['%s'] * len(columns))})"
    returning = f"RETURNING {quote('index')}, {quote(Subtask._meta.pk.column)}, attempt"
    queued = []
    with connection.cursor() as cursor:
        for start in range(0, min(window, len(rows)), ROWS_PER_STATEMENT):
            batch = rows[start : min(start + ROWS_PER_STATEMENT, window)]
            cursor.execute(
                f"{head}{', '.join([placeholders] * len(batch))} {returning}",
                [value for row in batch for value in (job_id, *row)],
            )
            queued += cursor.fetchall()
        for start in range(window, len(rows), INSERT_BATCH):
            cursor.executemany(head + placeholders, [(job_id, *row) for row in rows[start : start + INSERT_BATCH]])
    # RETURNING promises no order.
    return [(subtask_id, attempt) for _, subtask_id, attempt in sorted(queued)]


def write_successes(claimed):
    """Mark (subtask id, attempt, partial) rows succeeded, each only while its attempt
    still holds the claim (status running at that attempt); returns how many were written.

    One UPDATE joined to the batch as a VALUES list. Through the ORM, building the
    statements cost far more CPU than the database spent running them: in a profiled
    3,000-subtask job, a fenced UPDATE per row took 8.1 s of the worker's 36.9 s, one
    UPDATE with a CASE branch per row 7.5 s, an executemany 0.5 s. The executemany had
    to go: psycopg runs it as a pipeline, and a worker cut off after the pipeline's
    statements reached PostgreSQL but before its Sync left a session "idle in transaction"
    that idle_in_transaction_session_timeout never ends (the timer starts only at Sync),
    holding the rows for good (jobs.sessions; `make cluster` found it). `finished_at` is
    the database's clock, as Now() stamps it.
    """
    written = 0
    with connection.cursor() as cursor:
        for start in range(0, len(claimed), ROWS_PER_STATEMENT):
            batch = claimed[start : start + ROWS_PER_STATEMENT]
            cursor.execute(*_successes_statement(batch))
            written += cursor.rowcount
    return written


def _successes_statement(batch):
    quote = connection.ops.quote_name
    meta = Subtask._meta
    table = quote(meta.db_table)
    column = {
        name: quote(meta.get_field(name).column)
        for name in ("status", "result", "finished_at", "lease_expires_at", "attempt")
    }
    now_sql, now_params = Subtask.objects.none().query.get_compiler(connection=connection).compile(Now())
    # PostgreSQL types a VALUES column of NULLs as text, which a json column refuses.
    result = "batch.result::json" if connection.vendor == "postgresql" else "batch.result"
    sql = (
        f"WITH batch (id, attempt, result) AS (VALUES {', '.join(['(%s, %s, %s)'] * len(batch))}) "
        f"UPDATE {table} SET {column['status']} = %s, {column['result']} = {result}, "
        f"{column['finished_at']} = {now_sql}, {column['lease_expires_at']} = NULL "
        f"FROM batch WHERE {table}.{quote(meta.pk.column)} = batch.id AND {table}.{column['attempt']} = batch.attempt "
        f"AND {table}.{column['status']} = %s"
    )
    result_field = meta.get_field("result")
    values = [
        value
        for subtask_id, attempt, partial in batch
        for value in (subtask_id, attempt, result_field.get_db_prep_save(partial, connection))
    ]
    return sql, [*values, Subtask.Status.SUCCEEDED.value, *now_params, Subtask.Status.RUNNING.value]

"""Statements on subtask rows written by hand where the ORM's per-row cost shows.

Inserting a job's rows (`render`, `insert`): SQLite has one write lock, taken at BEGIN
(IMMEDIATE transactions), and every lease renewal waits behind it. Django's bulk_create
builds each row's SQL in Python inside the transaction: a 100,000-subtask submission held
the lock for about a minute on a loaded two-core machine, five lease lifetimes. So the
rows are rendered before the transaction (database-ready values) and inserted inside it
by multi-row INSERTs, which SQLite runs in well under a second. See
tests/bench/write_lock.py. Not `executemany`: psycopg runs it as a pipeline, and a web
host cut off mid-pipeline would leave its transaction open, holding its user's admission
lock, where the idle-transaction limit cannot end it (jobs.sessions). Recording a
batch's results is a per-message statement (jobs.hot_sql.write_successes).
"""

from django.db import connection

from jobs.models import Subtask

#: Rows per multi-row INSERT: ten parameters each, far below SQLite's and PostgreSQL's
#: limits per statement.
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
    returning = f" RETURNING {quote('index')}, {quote(Subtask._meta.pk.column)}, attempt"
    queued = []
    with connection.cursor() as cursor:
        start = 0
        while start < len(rows):
            # A statement never straddles the window: only queued rows come back.
            end = min(start + ROWS_PER_STATEMENT, window if start < window else len(rows))
            batch = rows[start:end]
            sql = head + ", ".join([placeholders] * len(batch))
            values = [value for row in batch for value in (job_id, *row)]
            if start < window:
                cursor.execute(sql + returning, values)
                queued += cursor.fetchall()
            else:
                cursor.execute(sql, values)
            start = end
    # RETURNING promises no order.
    return [(subtask_id, attempt) for _, subtask_id, attempt in sorted(queued)]

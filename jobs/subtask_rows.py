"""Writing a job's subtask rows without holding the database's write lock for long.

SQLite has one write lock, taken at BEGIN (IMMEDIATE transactions), and every lease
renewal waits behind it. Django's bulk_create builds each row's SQL in Python inside the
transaction: a 100,000-subtask submission held the lock for about a minute on a loaded
two-core machine, five lease lifetimes. So the rows are rendered before the transaction
(`render`: database-ready values) and inserted inside it with plain `executemany`
batches (`insert`), which SQLite runs in well under a second. See tests/bench/write_lock.py.
"""

from django.db import connection

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

"""The statements every message and every poll of a job runs, written as SQL text.

Each message claims its subtasks, records and counts its successes and tops up the
job's window of messages (jobs.dispatch.refill), so these costs are paid per message and
sit on every job's latency path. Through the ORM, Django spent far longer composing them
than the database spent running them: the claiming UPDATE (its job-status condition made
it an UPDATE over a joined subquery) took about 7 ms of CPU to compile on the loaded
development machine against 0.2 ms for SQLite to run it, and the SELECT reading the
claimed rows back 3 ms more. Here the claim and the count are each one statement that
also returns what the caller reads next (`UPDATE ... RETURNING`: PostgreSQL; SQLite 3.35
or later, which settings require).

The claim's conditions are invariant 3's: each subtask only at its own attempt and only
while queued, and only while its job is queued or running (checked in the statement
itself, so a cancel racing a requeue never starts a subtask of a canceled job).
"""

import functools

from django.conf import settings
from django.db import connection
from django.db.models import sql

from jobs import params_summary, row_models
from jobs.clock import Now, lease_expiry
from jobs.encoding import decoded
from jobs.models import Job, JobParams, Subtask

#: The claimed rows' fields, as `claim` returns them.
RETURNED = ("id", "attempt", "job_id", "index", "payload", "tries")
_CLAIMABLE_JOB = (Job.Status.QUEUED.value, Job.Status.RUNNING.value)
#: Successes per UPDATE: three parameters each, far below SQLite's and PostgreSQL's limits.
SUCCESSES_PER_STATEMENT = 500


def claim(pairs, worker, pid):
    """Claim those (subtask id, attempt) pairs that are still claimable for `worker`'s
    process `pid`; returns the claimed rows as dicts of RETURNED, in index order."""
    quote = connection.ops.quote_name
    names = (*RETURNED, "status", "worker", "worker_pid", "started_at", "lease_expires_at")
    column = {name: quote(Subtask._meta.get_field(name).column) for name in names}
    table, jobs = quote(Subtask._meta.db_table), quote(Job._meta.db_table)
    (now_sql, now_params), (lease_sql, lease_params) = _stamps(connection.vendor, settings.LEPTON_LEASE_SECONDS)
    ids_by_attempt = {}
    for subtask_id, attempt in pairs:
        ids_by_attempt.setdefault(attempt, []).append(subtask_id)
    matches, match_params = [], []
    for attempt, ids in ids_by_attempt.items():
        matches.append(f"({column['attempt']} = %s AND {column['id']} IN ({', '.join(['%s'] * len(ids))}))")
        match_params += [attempt, *ids]
    statement = (
        f"UPDATE {table} SET {column['status']} = %s, {column['worker']} = %s, {column['worker_pid']} = %s, "
        f"{column['tries']} = {column['tries']} + 1, {column['started_at']} = {now_sql}, "
        f"{column['lease_expires_at']} = {lease_sql} "
        f"WHERE {column['status']} = %s AND ({' OR '.join(matches)}) AND EXISTS ("
        f"SELECT 1 FROM {jobs} WHERE {jobs}.{quote(Job._meta.pk.column)} = {table}.{column['job_id']} "
        f"AND {jobs}.{quote(Job._meta.get_field('status').column)} IN (%s, %s)) "
        f"RETURNING {', '.join(column[name] for name in RETURNED)}"
    )
    params = [
        Subtask.Status.RUNNING.value, worker, pid, *now_params, *lease_params,
        Subtask.Status.QUEUED.value, *match_params, *_CLAIMABLE_JOB,
    ]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        returned = cursor.fetchall()
    rows = [dict(zip(RETURNED, values)) for values in returned]
    for row in rows:
        row["payload"] = decoded(row["payload"])
    return sorted(rows, key=lambda row: row["index"])


def start_job(job_id):
    """The type of the job whose subtasks were just claimed, or None if it is gone; a job
    still queued (this is its first claim) is moved to running."""
    quote = connection.ops.quote_name
    names = ("id", "type", "status", "started_at", "status_changed_at")
    column = {name: quote(Job._meta.get_field(name).column) for name in names}
    table = quote(Job._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column['type']}, {column['status']} FROM {table} WHERE {column['id']} = %s", [job_id])
        found = cursor.fetchone()
        if found is None:
            return None
        type_name, status = found
        if status == Job.Status.QUEUED:
            (now_sql, now_params), _ = _stamps(connection.vendor, settings.LEPTON_LEASE_SECONDS)
            cursor.execute(
                f"UPDATE {table} SET {column['status']} = %s, {column['started_at']} = {now_sql}, "
                f"{column['status_changed_at']} = {now_sql} WHERE {column['id']} = %s AND {column['status']} = %s",
                [Job.Status.RUNNING.value, *now_params, *now_params, job_id, Job.Status.QUEUED.value],
            )
    return type_name


def enter_finalizing(job_id, take_lease):
    """Move a running job to finalizing; whether this call did. With `take_lease`, the
    combine step's lease is taken in the same statement (its first attempt), so no other
    process can take the step before the caller runs it."""
    quote = connection.ops.quote_name
    names = ("id", "status", "status_changed_at", "lease_expires_at", "combine_attempts")
    column = {name: quote(Job._meta.get_field(name).column) for name in names}
    (now_sql, now_params), (lease_sql, lease_params) = _stamps(connection.vendor, settings.LEPTON_LEASE_SECONDS)
    lease, params = "", []
    if take_lease:
        lease = (
            f", {column['lease_expires_at']} = {lease_sql}, "
            f"{column['combine_attempts']} = {column['combine_attempts']} + 1"
        )
        params = lease_params
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(Job._meta.db_table)} SET {column['status']} = %s, {column['status_changed_at']} = {now_sql}"
            f"{lease} WHERE {column['id']} = %s AND {column['status']} = %s",
            [Job.Status.FINALIZING.value, *now_params, *params, job_id, Job.Status.RUNNING.value],
        )
        return cursor.rowcount == 1


def finish_job(job_id, outcome):
    """Write the combine step's outcome (a mapping of Job fields: its status, and its
    result or error) on the job, only while it is finalizing; whether it was."""
    quote = connection.ops.quote_name
    fields = {name: Job._meta.get_field(name) for name in outcome}
    names = ("id", "status", "finished_at", "status_changed_at", "lease_expires_at")
    column = {name: quote(Job._meta.get_field(name).column) for name in names}
    (now_sql, now_params), _ = _stamps(connection.vendor, settings.LEPTON_LEASE_SECONDS)
    written = ", ".join(f"{quote(field.column)} = %s" for field in fields.values())
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(Job._meta.db_table)} SET {written}, {column['finished_at']} = {now_sql}, "
            f"{column['status_changed_at']} = {now_sql}, {column['lease_expires_at']} = NULL "
            f"WHERE {column['id']} = %s AND {column['status']} = %s",
            [
                *(field.get_db_prep_save(outcome[name], connection) for name, field in fields.items()),
                *now_params, *now_params, job_id, Job.Status.FINALIZING.value,
            ],
        )
        return cursor.rowcount == 1


def count_successes(job_id, counted, batch):
    """Add `counted` successes to the job's `done` and set its `batch`; returns the row's
    Job.PROGRESS_FIELDS as they are after the update. On PostgreSQL the UPDATE takes the
    job's row lock, which the caller's transaction keeps: completions of one job are
    serialised from here on (as the reads that decide finalize or refill need)."""
    quote = connection.ops.quote_name
    column = {name: quote(Job._meta.get_field(name).column) for name in (*Job.PROGRESS_FIELDS, "done", "batch")}
    statement = (
        f"UPDATE {quote(Job._meta.db_table)} SET {column['done']} = {column['done']} + %s, {column['batch']} = %s "
        f"WHERE {quote(Job._meta.pk.column)} = %s "
        f"RETURNING {', '.join(column[name] for name in Job.PROGRESS_FIELDS)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [counted, batch, job_id])
        return dict(zip(Job.PROGRESS_FIELDS, cursor.fetchone()))


def write_successes(claimed):
    """Mark (subtask id, attempt, partial) rows succeeded, each only while its attempt
    still holds the claim (status running at that attempt); returns how many were written.

    One UPDATE joined to the batch as a VALUES list (`_successes_statement`). Through the
    ORM, a fenced UPDATE per row took 8.1 s of a profiled 3,000-subtask job's 36.9 s of
    worker CPU, one UPDATE with a CASE branch per row 7.5 s, an executemany 0.5 s. The executemany had to go: psycopg
    runs it as a pipeline, and a worker cut off after the pipeline's statements reached
    PostgreSQL but before its Sync left a session "idle in transaction" that
    idle_in_transaction_session_timeout never ends (the timer starts only at Sync),
    holding the rows for good (jobs.sessions; `make cluster` found it). `finished_at` is
    the database's clock, as Now() stamps it.
    """
    result_field = Subtask._meta.get_field("result")
    (now_sql, now_params), _ = _stamps(connection.vendor, settings.LEPTON_LEASE_SECONDS)
    written = 0
    with connection.cursor() as cursor:
        # LEPTON_MAX_BATCH has no ceiling: the parameters per statement must.
        for start in range(0, len(claimed), SUCCESSES_PER_STATEMENT):
            batch = claimed[start : start + SUCCESSES_PER_STATEMENT]
            values = [
                value
                for subtask_id, attempt, partial in batch
                for value in (subtask_id, attempt, result_field.get_db_prep_save(partial, connection))
            ]
            cursor.execute(
                _successes_statement(len(batch), now_sql),
                [Subtask.Status.SUCCEEDED.value, *now_params, *values, Subtask.Status.RUNNING.value],
            )
            written += cursor.rowcount
    return written


def _successes_statement(rows, now_sql):
    """The batch joined as a VALUES list (columns column1..3: id, attempt, partial). The
    statement starts with UPDATE: Python's sqlite3 reports a rowcount only for statements
    that do, and given `WITH batch AS (VALUES ...) UPDATE` it said -1, so every message
    on SQLite read its rows back to tell which it had written."""
    quote = connection.ops.quote_name
    table = quote(Subtask._meta.db_table)
    names = ("id", "status", "result", "finished_at", "lease_expires_at", "attempt")
    column = {name: quote(Subtask._meta.get_field(name).column) for name in names}
    # PostgreSQL types a VALUES column of NULLs as text, which a json column refuses.
    result = "batch.column3::json" if connection.vendor == "postgresql" else "batch.column3"
    return (
        f"UPDATE {table} SET {column['status']} = %s, {column['result']} = {result}, "
        f"{column['finished_at']} = {now_sql}, {column['lease_expires_at']} = NULL "
        f"FROM (VALUES {', '.join(['(%s, %s, %s)'] * rows)}) AS batch "
        f"WHERE {table}.{column['id']} = batch.column1 AND {table}.{column['attempt']} = batch.column2 "
        f"AND {table}.{column['status']} = %s"
    )


def messages_waiting(job_id):
    """Messages of this job in the broker: those whose subtasks are queued, not yet claimed."""
    quote = connection.ops.quote_name
    message, job, status = (quote(Subtask._meta.get_field(name).column) for name in ("message", "job", "status"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(DISTINCT {message}) FROM {quote(Subtask._meta.db_table)} WHERE {job} = %s AND {status} = %s",
            [job_id, Subtask.Status.QUEUED.value],
        )
        return cursor.fetchone()[0]


def queue_pending(job_id, limit, batch):
    """Move up to `limit` pending subtasks of the job to queued (attempt + 1), lowest index
    first, each chunk of `batch` marked with the message that will carry it (its first
    index); returns their (id, new attempt) pairs in that order."""
    quote = connection.ops.quote_name
    names = ("id", "attempt", "index", "job", "status", "queued_at", "message")
    column = {name: quote(Subtask._meta.get_field(name).column) for name in names}
    table = quote(Subtask._meta.db_table)
    pending, queued = Subtask.Status.PENDING.value, Subtask.Status.QUEUED.value
    (now_sql, now_params), _ = _stamps(connection.vendor, settings.LEPTON_LEASE_SECONDS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column['id']}, {column['attempt']}, {column['index']} FROM {table} "
            f"WHERE {column['job']} = %s AND {column['status']} = %s ORDER BY {column['index']} LIMIT %s",
            [job_id, pending, limit],
        )
        rows = cursor.fetchall()
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            cursor.execute(
                f"UPDATE {table} SET {column['status']} = %s, {column['attempt']} = {column['attempt']} + 1, "
                f"{column['queued_at']} = {now_sql}, {column['message']} = %s "
                f"WHERE {column['id']} IN ({', '.join(['%s'] * len(chunk))}) AND {column['status']} = %s",
                [queued, *now_params, chunk[0][2], *(subtask_id for subtask_id, _, _ in chunk), pending],
            )
    return [(subtask_id, attempt + 1) for subtask_id, attempt, _ in rows]


def owned_job(owner_id, job_id):
    """The owner's job `job_id`, or None: what a poll of the job reads, with its params
    row as `job.input` (the summary, and the params themselves unless
    jobs.params_summary calls them large; then they stay deferred). Two statements:
    through the ORM (`select_related`, a deferred column, then its load) composing them
    took about 1 ms of CPU on every poll, as a raw query 0.3 ms, here (jobs.row_models)
    0.1 ms.
    """
    job_sql, params_sql = _owned_job_statements(connection.vendor)
    found = row_models.fetch(Job, job_sql, [job_id, owner_id])
    if not found:
        return None
    job, (summary_text,) = found[0]
    summary, params = (JobParams._meta.get_field(name) for name in ("summary", "params"))
    read = {"job_id": job.pk, "summary": summary.from_db_value(summary_text, None, connection)}
    if not params_summary.is_large(read["summary"]):
        with connection.cursor() as cursor:
            cursor.execute(params_sql, [job.pk])
            read["params"] = params.from_db_value(cursor.fetchone()[0], None, connection)
    # from_db takes the values in the order of the model's fields.
    names = [field.attname for field in JobParams._meta.concrete_fields if field.attname in read]
    job.input = JobParams.from_db(connection.alias, names, [read[name] for name in names])
    return job


def succeeded_partials(job_id, batch):
    """The job's partial results in subtask order, decoded as the ORM decodes them, read
    `batch` rows at a time (on PostgreSQL through a server-side cursor, as the ORM's
    `iterator()`): what the combine step folds. Through the ORM, composing this one
    SELECT took a worker about 1 ms of CPU on every job's latency path."""
    column, converters = row_models.field_converters(Subtask._meta.get_field("result"))
    with connection.chunked_cursor() as cursor:
        cursor.execute(_partials_statement(connection.vendor), [job_id, Subtask.Status.SUCCEEDED.value])
        while rows := cursor.fetchmany(batch):
            for (value,) in rows:
                for convert in converters:
                    value = convert(value, column, connection)
                yield value


@functools.cache
def _partials_statement(vendor):
    quote = connection.ops.quote_name
    job, status, result, index = (
        quote(Subtask._meta.get_field(name).column) for name in ("job", "status", "result", "index")
    )
    return f"SELECT {result} FROM {quote(Subtask._meta.db_table)} WHERE {job} = %s AND {status} = %s ORDER BY {index}"


@functools.cache
def _owned_job_statements(vendor):
    """owned_job's two statements, written once per process."""
    quote = connection.ops.quote_name
    jobs, inputs = quote(Job._meta.db_table), quote(JobParams._meta.db_table)
    input_job = f"{inputs}.{quote(JobParams._meta.get_field('job').column)}"
    pk, owner = (f"{jobs}.{quote(Job._meta.get_field(name).column)}" for name in ("id", "owner"))
    job_sql = (
        f"SELECT {row_models.columns(Job, jobs)}, {inputs}.{quote(JobParams._meta.get_field('summary').column)} "
        f"FROM {jobs} JOIN {inputs} ON {input_job} = {pk} WHERE {pk} = %s AND {owner} = %s"
    )
    return (
        job_sql,
        f"SELECT {quote(JobParams._meta.get_field('params').column)} FROM {inputs} WHERE {input_job} = %s",
    )


def subtask_counts(job_id, statuses):
    """{status: the job's subtasks in it} for those of `statuses` that have any: one
    grouped count over the (job, status) index. Every poll of a job asks it; as three
    correlated subqueries annotated through the ORM it took 2.3 ms more to compose."""
    quote = connection.ops.quote_name
    job, status = (quote(Subtask._meta.get_field(name).column) for name in ("job", "status"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {status}, COUNT(*) FROM {quote(Subtask._meta.db_table)} "
            f"WHERE {job} = %s AND {status} IN ({', '.join(['%s'] * len(statuses))}) GROUP BY {status}",
            [job_id, *statuses],
        )
        return dict(cursor.fetchall())


def running_on_queue(queue):
    """Subtasks running now, of every job on `queue`: what a job's answer asks when it
    waits (jobs.waiting), over the partial index of running subtasks by lease.

    A running subtask always holds a lease (the claim sets it; it is cleared only as the
    row leaves `running`), and the lease term is what makes SQLite search that index: on
    the status alone it scanned every subtask (4.5 ms over 100,000 rows, 0.02 ms here),
    and the ORM's form of this count probed every job ever run on the queue.
    """
    quote = connection.ops.quote_name
    subtasks, jobs = quote(Subtask._meta.db_table), quote(Job._meta.db_table)
    job, status, lease = (quote(Subtask._meta.get_field(name).column) for name in ("job", "status", "lease_expires_at"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {subtasks} JOIN {jobs} ON {jobs}.{quote(Job._meta.pk.column)} = {subtasks}.{job} "
            f"WHERE {subtasks}.{status} = '{Subtask.Status.RUNNING.value}' AND {subtasks}.{lease} IS NOT NULL "
            f"AND {jobs}.{quote(Job._meta.get_field('queue').column)} = %s",
            [queue],
        )
        return cursor.fetchone()[0]


@functools.cache
def _stamps(vendor, lease_seconds):
    """(SQL, params) of Now() and of lease_expiry() on this kind of database: compiled
    once per process (the lease's took most of a millisecond each time)."""
    query = sql.Query(Subtask)
    compiler = query.get_compiler(connection=connection)
    return tuple(compiler.compile(expression.resolve_expression(query)) for expression in (Now(), lease_expiry()))

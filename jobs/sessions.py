"""A worker's or web process's database sessions let go of their locks when it is cut off.

A worker host that loses its network in the middle of a transaction leaves that
transaction open on the server: PostgreSQL notices a silent client only by TCP keepalive,
two hours later by default. Until then the rows the transaction updated stay locked (the
job row every completion of that job updates, the rows the reconciler must requeue), so
the job stops, and the single-flight reconciler waits behind it: a lease that lapsed is
never healed. `make cluster` found this by cutting a host's link mid-job.

Lepton's transactions in a worker run statement after statement and never around user
code (a job type's process or combine runs outside them), so a transaction idle for
LEPTON_DB_IDLE_TRANSACTION_SECONDS means its process is gone or cut off: the server ends
it, its locks go, and the lease lapses as for any lost worker. A live worker whose
session was ended this way gets a DatabaseError on its next statement; its task hands its
claims back and retries (jobs.execution.run).

The web's transactions are the same (statements only; a submission's split and its
rows' rendering run before it, its messages are sent after it), and a web host cut off
in the middle of a submission would hold that user's admission lock (the user row, SELECT
... FOR UPDATE): every later submission of theirs would wait. So web processes get the
limit too (lepton/wsgi.py). Management commands do not: a data migration may rightly
think between statements.

PostgreSQL starts the timer only when it answers a Sync: a psycopg `executemany` runs
as a pipeline, and a host cut off after its statements arrived but before the Sync leaves
a session idle in its transaction that the limit never ends. So neither sends pipelines:
what they write in one go is one statement (hot_sql.write_successes, subtask_rows.insert).
"""

from celery.signals import celeryd_init
from django.conf import settings
from django.db.backends.signals import connection_created


def limit_idle_transactions(sender, connection, **kwargs):
    if connection.vendor != "postgresql" or not settings.LEPTON_DB_IDLE_TRANSACTION_SECONDS:
        return
    milliseconds = round(settings.LEPTON_DB_IDLE_TRANSACTION_SECONDS * 1000)
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('idle_in_transaction_session_timeout', %s, false)", [str(milliseconds)])


def limit_this_process():
    """Every session this process opens from now on gets the limit."""
    connection_created.connect(limit_idle_transactions, dispatch_uid="lepton-idle-transactions")


@celeryd_init.connect
def _in_workers(**kwargs):
    # Before the pool forks, so every pool process has it.
    limit_this_process()

"""A worker's database sessions let go of their locks when the worker is cut off.

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

PostgreSQL starts the timer only when it answers a Sync: a psycopg `executemany` runs
as a pipeline, and a host cut off after its statements arrived but before the Sync leaves
a session idle in its transaction that the limit never ends. So worker code sends no
pipelines: what it writes in one go is one statement (hot_sql.write_successes).

Only Celery worker processes get the limit (from `celeryd_init`, before the pool forks);
the web's and the CLI's sessions have none.
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


@celeryd_init.connect
def _in_workers(**kwargs):
    connection_created.connect(limit_idle_transactions, dispatch_uid="lepton-idle-transactions")

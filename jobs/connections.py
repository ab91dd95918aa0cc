"""Database connections in worker processes: kept from one task to the next.

Celery's Django fixup closes every connection before and after each task unless
CELERY_DB_REUSE_MAX is set, so each message paid a new connection (on PostgreSQL a
backend fork and authentication; on SQLite opening the file and its PRAGMAs): 376
connections for 353 messages in a profiled 3,000-subtask job. Lepton sets
CELERY_DB_REUSE_MAX so the fixup keeps them, and after each task treats connections as
Django treats them after each request: closed when older than CONN_MAX_AGE
(LEPTON_DB_CONN_MAX_AGE), left in a transaction, or broken (after an error the health
check decides), so a database restart costs one failed task, not every later one.
"""

from celery.signals import task_postrun
from django.db import close_old_connections


@task_postrun.connect
def close_unusable_connections(task=None, **kwargs):
    # A task run eagerly (Task.apply) runs in its caller's connection and transaction.
    if not getattr(task.request, "is_eager", False):
        close_old_connections()

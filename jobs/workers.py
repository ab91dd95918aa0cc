"""What each worker reports about itself: a heartbeat row and per-minute attempt counts.

The worker's main process writes its Worker row every few seconds from its event loop
(hostname, the queues it should consume and those it does consume, concurrency). Each
pool process counts its subtask attempts in memory; the lease-renewer thread flushes the
counts into WorkerMinute rows, so recording an outcome costs no database round trip.
"""

import functools
import logging
import os
import threading
from collections import Counter
from datetime import timedelta

from celery.signals import worker_ready
from django.conf import settings
from django.db import connection
from django.utils import timezone

from jobs import row_models
from jobs.clock import Now, db_now
from jobs.models import Worker, WorkerMinute

log = logging.getLogger(__name__)

OUTCOMES = ("succeeded", "failed")
COUNTED = ("attempted", *OUTCOMES)


class AttemptCounter:
    """Outcomes of attempts in this process, by (hostname, minute), until flushed."""

    def __init__(self):
        self._counts = Counter()
        self._lock = threading.Lock()

    def record(self, hostname, outcome):
        minute = timezone.now().replace(second=0, microsecond=0)
        with self._lock:
            self._counts[(hostname, minute, "attempted")] += 1
            if outcome in OUTCOMES:
                self._counts[(hostname, minute, outcome)] += 1

    def flush(self):
        with self._lock:
            counts, self._counts = self._counts, Counter()
        rows = {}
        for (hostname, minute, field), n in counts.items():
            rows.setdefault((hostname, minute), {})[field] = n
        for (hostname, minute), deltas in rows.items():
            add_attempts(hostname, minute, **deltas)


def add_attempts(hostname, minute, **deltas):
    """Add to the worker's counts for that minute, creating its row if needed.

    One upsert: every pool process of a worker flushes into the same row, and an insert
    that lost that race used to leave a unique-violation ERROR in PostgreSQL's log each
    minute (SQLite 3.35+ and PostgreSQL both have ON CONFLICT).
    """
    quote = connection.ops.quote_name
    minute_value = WorkerMinute._meta.get_field("minute").get_db_prep_value(minute, connection)
    counts = [deltas.get(field, 0) for field in COUNTED]
    columns = ", ".join(quote(field) for field in COUNTED)
    table = quote(WorkerMinute._meta.db_table)
    placeholders = ", ".join(["%s"] * (2 + len(COUNTED)))
    added = ", ".join(f"{quote(field)} = {table}.{quote(field)} + excluded.{quote(field)}" for field in COUNTED)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({quote('hostname')}, {quote('minute')}, {columns}) VALUES ({placeholders}) "
            f"ON CONFLICT ({quote('hostname')}, {quote('minute')}) DO UPDATE SET {added}",
            [hostname, minute_value, *counts],
        )


attempts = AttemptCounter()


def live_workers(now=None):
    """Workers that reported within three heartbeats, by the database's clock (heartbeats
    are stamped with it too, so a worker's skewed clock does not make it look dead).

    Written as SQL (jobs.row_models): every submission's answer asks it (jobs.waiting),
    and the ORM took longer to compose the query than the database to run it.
    """
    now = now or db_now()
    horizon = now - timedelta(seconds=3 * settings.LEPTON_WORKER_HEARTBEAT_SECONDS)
    found = row_models.fetch(
        Worker, _live_workers_statement(connection.vendor), [connection.ops.adapt_datetimefield_value(horizon)]
    )
    return [worker for worker, _ in found]


@functools.cache
def _live_workers_statement(vendor):
    """live_workers' statement, written once per process."""
    quote = connection.ops.quote_name
    table, last_seen = quote(Worker._meta.db_table), quote(Worker._meta.get_field("last_seen_at").column)
    return f"SELECT {row_models.columns(Worker, table)} FROM {table} WHERE {last_seen} >= %s"


@worker_ready.connect
def start_heartbeat(sender, **kwargs):
    """Beat from the worker's own event loop, in the thread that forks pool processes.

    A SQLite connection open in another thread at the moment of a fork leaves the new
    pool process unable to ever write; on the event loop no beat runs during a fork, and
    the connection is closed after each beat.
    """
    consumer = sender
    started = timezone.now()
    consumer.timer.call_repeatedly(
        settings.LEPTON_WORKER_HEARTBEAT_SECONDS, _beat_safely, (consumer, started)
    )
    _beat_safely(consumer, started)


def _beat_safely(consumer, started):
    try:
        beat(consumer, started)
    except Exception:
        log.exception("event=heartbeat_failed worker=%s", consumer.hostname)
    finally:
        connection.close()


def beat(consumer, started):
    task_consumer = consumer.task_consumer
    Worker.objects.update_or_create(
        hostname=consumer.hostname,
        defaults={
            "queues": sorted(consumer.app.amqp.queues.consume_from),
            "consuming": sorted(q.name for q in task_consumer.queues) if task_consumer else [],
            "concurrency": consumer.pool.num_processes if consumer.pool else 0,
            "pid": os.getpid(),
            "started_at": started,
            "last_seen_at": Now(),
        },
    )

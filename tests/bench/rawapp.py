"""A plain Celery app for the raw-Celery baselines: no Django, no database, no Lepton.

Its workers run with the same settings as Lepton's (json only, late acks, reject on
worker lost, prefetch multiplier 1, events off, the same Redis transport options) on
the bench's embedded Redis, and store results in its database 1: chords and `get()`
need a result backend. The compute is the job types' own code (plain Python), so a
raw run and a Lepton run of a scenario differ only in how the work is carried.
The harness checks at start-up that these settings still match Lepton's.
"""

import os

from celery import Celery

from jobs.jobtypes.primes import count_primes as _count_primes
from jobs.jobtypes.stats import Stats

QUEUE = "raw"
#: The bench's embedded Redis, a redis+socket:// URL (the harness sets it for every process).
BROKER_URL = os.environ["LEPTON_BROKER_URL"]

app = Celery("rawbench", set_as_current=False)
app.conf.update(
    broker_url=BROKER_URL,
    result_backend=f"{BROKER_URL}?virtual_host=1",
    broker_connection_retry_on_startup=True,
    broker_transport_options={
        "priority_steps": [0, 3, 6, 9],
        "sep": ":",
        "queue_order_strategy": "priority",
        "visibility_timeout": 3600,
    },
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    event_serializer="json",
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    worker_send_task_events=False,
    task_send_sent_event=False,
    task_default_queue=QUEUE,
)

_stats = Stats()


@app.task(name="raw.noop")
def noop(index):
    return index


@app.task(name="raw.total")
def total(values):
    return sum(values)


@app.task(name="raw.chunk_stats")
def chunk_stats(values):
    return _stats.process({"values": values}, None)


@app.task(name="raw.merge_stats")
def merge_stats(partials):
    return _stats.combine(partials, {})


@app.task(name="raw.count_primes")
def count_primes(lo, hi):
    count, largest = _count_primes(lo, hi)
    return {"count": count, "largest": largest}

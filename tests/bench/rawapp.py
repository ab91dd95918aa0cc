"""A plain Celery app for the raw-Celery baselines: no Django, no database, no Lepton.

Its workers run with the same settings as Lepton's (json only, late acks, reject on
worker lost, prefetch multiplier 1, events off, the same Redis transport options) on
the bench's embedded Redis, and store results in its database 1: chords and `get()`
need a result backend. The compute is the job types' own code (plain Python), so a
raw run and a Lepton run of a scenario differ only in how the work is carried.
The harness checks at start-up that these settings still match Lepton's.
"""

from celery import Celery

from jobs.jobtypes.primes import count_primes as _count_primes
from tests.bench import compute_tasks
from tests.bench.worker_settings import BROKER_URL, WORKER_SETTINGS

QUEUE = "raw"

app = Celery("rawbench", set_as_current=False)
app.conf.update(WORKER_SETTINGS, result_backend=f"{BROKER_URL}?virtual_host=1", task_default_queue=QUEUE)

_compute = compute_tasks.register(app, "raw")
noop, total, chunk_stats, merge_stats = _compute.noop, _compute.total, _compute.chunk_stats, _compute.merge_stats


@app.task(name="raw.count_primes")
def count_primes(lo, hi):
    count, largest = _count_primes(lo, hi)
    return {"count": count, "largest": largest}

"""The peer's tasks: the same compute as the raw baseline's and Lepton's job types."""

from tests.bench import compute_tasks
from tests.bench.peer.celery import app

_compute = compute_tasks.register(app, "peer")
noop, total, chunk_stats, merge_stats = _compute.noop, _compute.total, _compute.chunk_stats, _compute.merge_stats

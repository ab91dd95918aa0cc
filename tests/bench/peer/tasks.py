"""The peer's tasks: the same compute as the raw baseline's and Lepton's job types."""

from jobs.jobtypes.stats import Stats
from tests.bench.peer.celery import app

_stats = Stats()


@app.task(name="peer.noop")
def noop(index):
    return index


@app.task(name="peer.total")
def total(values):
    return sum(values)


@app.task(name="peer.chunk_stats")
def chunk_stats(values):
    return _stats.process({"values": values}, None)


@app.task(name="peer.merge_stats")
def merge_stats(partials):
    return _stats.combine(partials, {})

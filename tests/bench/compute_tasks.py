"""The compute both baselines run (raw Celery's app and the peer's), defined once: the
job types' own code, so a baseline and Lepton differ only in how the work is carried."""

from types import SimpleNamespace

from jobs.jobtypes.stats import Stats


def register(app, prefix):
    """noop, total, chunk_stats and merge_stats as tasks of `app` named `<prefix>.<name>`."""
    stats = Stats()

    def noop(index):
        return index

    def total(values):
        return sum(values)

    def chunk_stats(values):
        return stats.process({"values": values}, None)

    def merge_stats(partials):
        return stats.combine(partials, {})

    return SimpleNamespace(
        **{task.__name__: app.task(name=f"{prefix}.{task.__name__}")(task) for task in (noop, total, chunk_stats, merge_stats)}
    )

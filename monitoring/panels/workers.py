from django.conf import settings

from monitoring import figures

TITLE = "Workers"
TEMPLATE = "monitoring/panels/workers.html"


def context(now):
    workers = sorted(
        figures.worker_figures(now), key=lambda w: (figures.WORKER_STATES.index(w.state), w.hostname)
    )
    counts = {state: 0 for state in figures.WORKER_STATES}
    for worker in workers:
        counts[worker.state] += 1
    return {
        "workers": workers,
        "counts": counts,
        "window_minutes": settings.LEPTON_QUARANTINE_WINDOW_SECONDS // 60,
        "fold_minutes": int(settings.LEPTON_HEALTH_GONE_FOLD_SECONDS // 60),
    }

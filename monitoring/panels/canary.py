"""Health page panel: the canary per job queue (last run, latency, failures in a row) and
its latest runs."""

from django.conf import settings

from monitoring import canary
from monitoring.models.canary import CanaryRun

TITLE = "Canary"
TEMPLATE = "monitoring/panels/canary.html"
RECENT = 10


def context(now):
    failures = canary.consecutive_failures()
    successes = canary.last_successes()
    queues = []
    for queue in settings.LEPTON_QUEUES:
        last = CanaryRun.objects.filter(queue=queue).order_by("-submitted_at", "-id").first()
        queues.append(
            {
                "queue": queue,
                "last": last,
                "failures_in_a_row": failures.get(queue, 0),
                "last_success": successes.get(queue),
            }
        )
    return {
        "queues": queues,
        "runs": list(CanaryRun.objects.order_by("-submitted_at", "-id")[:RECENT]),
        "interval": settings.LEPTON_CANARY_SECONDS,
        "deadline": settings.LEPTON_CANARY_DEADLINE_SECONDS,
    }

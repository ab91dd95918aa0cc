"""What the platform healed and what failed lately, each linking to its job."""

from jobs.models import RecoveryEvent, Subtask

TITLE = "Healing"
TEMPLATE = "monitoring/panels/healing.html"
SHOWN = 15
ERROR_CHARS = 300


def context(now):
    events = list(
        RecoveryEvent.objects.order_by("-created_at", "-id").values(
            "kind", "job_id", "subtask_index", "attempt", "worker", "detail", "created_at"
        )[:SHOWN]
    )
    # The subtask_failed_recent partial index: only failed rows, newest first.
    failures = list(
        Subtask.objects.filter(status=Subtask.Status.FAILED)
        .order_by("-finished_at")
        .values("job_id", "job__type", "index", "attempt", "worker", "error", "finished_at")[:SHOWN]
    )
    for failure in failures:
        failure["error"] = failure["error"][:ERROR_CHARS]
    return {"events": events, "failures": failures}

"""V = subtasks finished per second and jobs finished per minute, over three windows.

The last five minutes are counted from the rows (the finished_at indexes, a bounded
range); the hour and the day from the snapshots, so they survive restarts and cost one
aggregate each however many rows there are.
"""

from datetime import timedelta

from django.db.models import Count, Max, Min, Q, Sum

from jobs.jobtypes.canary import Canary
from jobs.models import Job, Subtask
from monitoring.models import Snapshot

TITLE = "Throughput"
TEMPLATE = "monitoring/panels/throughput.html"
LIVE_SECONDS = 300


def context(now):
    return {"windows": [_live(now), _from_snapshots(now, "1 h", 3600), _from_snapshots(now, "24 h", 86400)]}


def _live(now):
    since = now - timedelta(seconds=LIVE_SECONDS)
    # The canary's own jobs are not users' work (monitoring.canary measures them).
    subtasks = Subtask.objects.filter(finished_at__gt=since, finished_at__lte=now).exclude(job__type=Canary.name).aggregate(
        succeeded=Count("id", filter=Q(status=Subtask.Status.SUCCEEDED)),
        failed=Count("id", filter=Q(status=Subtask.Status.FAILED)),
    )
    jobs = Job.objects.filter(finished_at__gt=since, finished_at__lte=now).exclude(type=Canary.name).count()
    return _window("5 min", LIVE_SECONDS, subtasks["succeeded"], subtasks["failed"], jobs)


def _from_snapshots(now, label, seconds):
    totals = Snapshot.objects.filter(period_end__gt=now - timedelta(seconds=seconds)).aggregate(
        succeeded=Sum("subtasks_succeeded"), failed=Sum("subtasks_failed"), jobs=Sum("jobs_finished"),
        start=Min("period_start"), end=Max("period_end"),
    )
    if totals["start"] is None:
        return _window(label, seconds, None, None, None)
    # Rates over the time the snapshots cover, at most the window: a young platform has
    # less history, and the newest minute closes a little after it ends.
    covered = (totals["end"] - max(totals["start"], now - timedelta(seconds=seconds))).total_seconds()
    return _window(label, max(60.0, covered), totals["succeeded"], totals["failed"], totals["jobs"])


def _window(label, seconds, succeeded, failed, jobs):
    if succeeded is None:
        return {"label": label, "known": False}
    return {
        "label": label,
        "known": True,
        "subtasks_per_second": (succeeded + failed) / seconds,
        "failed_per_second": failed / seconds,
        "jobs_per_minute": jobs * 60 / seconds,
        "succeeded": succeeded,
        "failed": failed,
        "jobs": jobs,
    }

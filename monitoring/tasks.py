"""Monitoring's periodic work, on the control queue, one pass at a time (jobs.singleflight)."""

from celery import shared_task
from django.utils import timezone

from jobs.singleflight import run_exclusively
from monitoring import history
from monitoring.models import Snapshot

#: A pass that dies mid-way frees the snapshot lease after this long.
SNAPSHOT_LEASE_SECONDS = 300


@shared_task(name="monitoring.tasks.take_snapshot")
def take_snapshot():
    """Returns the new snapshot's id, None when no minute closed, or "skipped"."""
    outcome = run_exclusively("snapshot", lambda: history.record(timezone.now()), SNAPSHOT_LEASE_SECONDS)
    return outcome.pk if isinstance(outcome, Snapshot) else outcome

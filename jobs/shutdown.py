"""Graceful worker shutdown: what did not finish in the grace period is handed back at once.

Workers run with REMAP_SIGTERM=SIGQUIT and a soft-shutdown timeout, so SIGTERM lets
running subtasks finish for LEPTON_SHUTDOWN_GRACE_SECONDS and then stops the rest.
Those rows still say `running` on this worker; rather than let them wait for their
leases to lapse, the stopping worker queues them again under a new attempt.
"""

import logging

from celery.signals import worker_shutdown
from django.db.models import F
from django.utils import timezone

from jobs.dispatch import ROUTING_FIELDS, publish_by_job
from jobs.models import RecoveryEvent, Subtask

log = logging.getLogger(__name__)


@worker_shutdown.connect
def hand_back_running_subtasks(sender, **kwargs):
    hostname = getattr(sender, "hostname", None)
    if not hostname:
        return
    now = timezone.now()
    rows = list(
        Subtask.objects.filter(status=Subtask.Status.RUNNING, worker=hostname).values(
            "id", "attempt", "job_id", "index", *ROUTING_FIELDS
        )
    )
    handed_back = []
    for row in rows:
        if Subtask.objects.filter(pk=row["id"], attempt=row["attempt"], status=Subtask.Status.RUNNING).update(
            status=Subtask.Status.QUEUED,
            attempt=F("attempt") + 1,
            # Not the subtask's fault: the try does not count against its retries.
            tries=F("tries") - 1,
            queued_at=now,
            message=F("index"),
            worker="",
            lease_expires_at=None,
        ):
            handed_back.append({**row, "attempt": row["attempt"] + 1})
    publish_by_job(handed_back)
    RecoveryEvent.objects.bulk_create(
        RecoveryEvent(
            kind=RecoveryEvent.Kind.HANDED_BACK, job_id=row["job_id"], subtask_index=row["index"],
            attempt=row["attempt"], worker=hostname, detail=f"{hostname} shut down; queued as attempt {row['attempt']}",
        )
        for row in handed_back
    )
    if handed_back:
        log.warning("event=handed_back worker=%s subtasks=%d", hostname, len(handed_back))

"""Graceful worker shutdown: what did not finish in the grace period is handed back at once.

Workers run with REMAP_SIGTERM=SIGQUIT and a soft-shutdown timeout, so SIGTERM lets
running subtasks finish for LEPTON_SHUTDOWN_GRACE_SECONDS and then terminates the rest
(Celery's cold shutdown). Those rows still say `running` on this worker; rather than let
them wait for their leases to lapse, the stopping worker queues them again under a new
attempt. Celery sends no worker_shutdown signal on a cold shutdown, so this is a worker
bootstep: the blueprint calls its `terminate` on the way down. A warm shutdown waits for
every running subtask, so it has nothing to hand back.
"""

import logging

from celery import bootsteps
from django.db import connection
from django.db.models import F

from jobs.clock import db_now
from jobs.dispatch import ROUTING_FIELDS, publish_by_job, requeue_running
from jobs.models import RecoveryEvent, Subtask

log = logging.getLogger(__name__)


class HandBackOnTerminate(bootsteps.StartStopStep):
    label = "lepton hand-back"

    def terminate(self, worker):
        try:
            hand_back_running_subtasks(worker.hostname)
        except Exception:
            # The leases still lapse; the reconciler hands these back a little later.
            log.exception("event=hand_back_failed worker=%s", worker.hostname)
        finally:
            connection.close()


def hand_back_running_subtasks(hostname):
    now = db_now()
    rows = Subtask.objects.filter(status=Subtask.Status.RUNNING, worker=hostname).values(
        "id", "attempt", "job_id", "index", "worker", *ROUTING_FIELDS
    )
    # Not the subtask's fault: the try does not count against its retries.
    handed_back = [again for row in rows if (again := requeue_running(row, now, tries=F("tries") - 1))]
    publish_by_job(handed_back)
    RecoveryEvent.record(
        RecoveryEvent.Kind.HANDED_BACK, handed_back,
        lambda row: f"{hostname} shut down; queued as attempt {row['attempt']}",
    )
    if handed_back:
        log.warning("event=handed_back worker=%s subtasks=%d", hostname, len(handed_back))
    return len(handed_back)

"""Quiet housekeeping: an idle reconcile or review tick logs nothing above DEBUG.

Beat sends the reconciler every second; Celery logs each task's "received" and
"succeeded" at INFO, which filled worker.log with 163 KB in four idle minutes. This
filter drops those two lines for the housekeeping tasks only (at DEBUG level they are
kept). The passes log their own warning whenever they do something, so nothing that
happened is hidden; failures keep Celery's ERROR line.
"""

import logging

HOUSEKEEPING_TASKS = frozenset({"jobs.tasks.reconcile", "jobs.tasks.review_workers", "jobs.tasks.prune_history"})


class QuietHousekeeping(logging.Filter):
    def filter(self, record):
        if record.levelno != logging.INFO or logging.getLogger().isEnabledFor(logging.DEBUG):
            return True
        data = getattr(record, "data", None)
        return not (isinstance(data, dict) and data.get("name") in HOUSEKEEPING_TASKS)

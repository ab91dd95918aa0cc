"""Where a job's messages go: its queue (resource class) and its message priority.

The Redis transport keeps one list per priority step and serves step 0 first, so a
worker takes high-priority work before normal work from the same queue.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from jobs.models import Priority

#: Combine steps outrank every subtask: a job that is done should not wait behind others.
FINALIZE_PRIORITY = 0
MESSAGE_PRIORITY = {Priority.HIGH: 3, Priority.NORMAL: 6, Priority.LOW: 9}


def queue_for(job_type):
    """The type's resource class, unless LEPTON_ROUTES sends it elsewhere."""
    queue = settings.LEPTON_ROUTES.get(job_type.name, job_type.queue)
    if queue not in settings.LEPTON_QUEUES:
        raise ImproperlyConfigured(
            f"job type {job_type.name!r} routes to queue {queue!r}, "
            f"which is not in LEPTON_QUEUES {settings.LEPTON_QUEUES}"
        )
    return queue


def message_priority(priority):
    return MESSAGE_PRIORITY[priority]

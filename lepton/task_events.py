"""Which tasks send Celery task events (what Flower's task list shows).

Jobs' messages do; the control plane's ticks (reconcile every second, worker review,
any other housekeeping routed to the control queue) do not, or Flower's task list is
nothing but ticks. Their health is the Housekeeping rows (last success, last error) and
the health page, not Flower. Applied through `task_annotations` (settings), so a new
housekeeping task is covered by being routed to the control queue.
"""

from django.conf import settings


class QuietControlPlane:
    def annotate(self, task):
        route = settings.CELERY_TASK_ROUTES.get(task.name, {})
        if route.get("queue") == settings.CONTROL_QUEUE or getattr(task, "queue", None) == settings.CONTROL_QUEUE:
            return {"send_events": False}
        return None

"""The Celery application; `celery -A lepton worker|beat|flower` finds it here."""

import os

from celery import Celery
from celery.signals import celeryd_after_setup

from lepton import brokers, logs  # noqa: F401 -- brokers connects its publish hook

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lepton.settings")

app = Celery("lepton")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Named, not imported: the step's module needs Django, which is set up after this runs.
app.steps["worker"].add("jobs.shutdown:HandBackOnTerminate")


@celeryd_after_setup.connect
def _name_the_worker_in_logs(sender, **kwargs):
    """JSON log lines carry the worker's node name; pool processes inherit it."""
    logs.worker_hostname = sender

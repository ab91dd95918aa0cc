"""The Celery application; `celery -A lepton worker|beat|flower` finds it here."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lepton.settings")

app = Celery("lepton")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Named, not imported: the step's module needs Django, which is set up after this runs.
app.steps["worker"].add("jobs.shutdown:HandBackOnTerminate")

"""The peer's Celery app: `celery -A tests.bench.peer worker` finds it here."""

import os

from celery import Celery
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.bench.peer.settings")

app = Celery("peer")
app.conf.update(settings.CELERY, imports=["tests.bench.peer.tasks"])

"""A web process is ready when it boots: its first request loads nothing big."""

import subprocess
import sys

from tests.processes import ROOT

# What gunicorn loads in each web process (lepton/run.py), then which of the modules a
# first submission needs are already there: the views and the broker's transport.
SCRIPT = """
import sys
import lepton.wsgi
from kombu.transport import TRANSPORT_ALIASES
from lepton.celery import app
transport = TRANSPORT_ALIASES[app.connection_for_write().transport_cls].partition(":")[0]
needed = ["jobs.api.views", "jobs.web.views", "monitoring.views", "celery.app.amqp", transport]
print([name for name in needed if name not in sys.modules])
"""


def test_loading_the_wsgi_application_loads_the_views_and_the_broker_transport():
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lepton.settings")
application = get_wsgi_application()

from django.urls import reverse  # noqa: E402 (needs the app registry)

from jobs.sessions import limit_this_process  # noqa: E402
from lepton import celery_app  # noqa: E402

limit_this_process()


def load_what_the_first_request_would():
    """Django loads the URLconf, and with it every view module (DRF, admin, the API), on a
    process's first request; Celery loads its broker transport on the first message sent.
    The first user after each start of a web process waited 0.3 s for that; here it is
    done while gunicorn boots the process, before it accepts connections."""
    reverse("livez")
    celery_app.amqp.queues
    celery_app.connection_for_write().get_transport_cls()


load_what_the_first_request_would()

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lepton.settings")
application = get_wsgi_application()

from jobs.sessions import limit_this_process  # noqa: E402 (needs the app registry)

limit_this_process()

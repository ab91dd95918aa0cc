"""The peer's Django settings: only what its views and django-celery-results need.

Environment (set by tests/bench/__main__.py): PEER_DATABASE_URL and LEPTON_BROKER_URL.
"""

import os

import dj_database_url

from tests.bench.worker_settings import WORKER_SETTINGS

SECRET_KEY = "lepton-bench-peer-only"  # noqa: S105 -- a loopback-only bench server
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["django_celery_results"]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "tests.bench.peer.urls"
WSGI_APPLICATION = "tests.bench.peer.wsgi.application"
USE_TZ = True
#: The same request size limit as Lepton's web (LEPTON_MAX_REQUEST_BYTES, 16 MiB by default).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("LEPTON_MAX_REQUEST_BYTES", 16 * 1024 * 1024))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

#: Lepton's SQLite options (lepton/settings.py; the harness checks they still match), so
#: both sides write to SQLite the same way.
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL",
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
}
DATABASES = {
    "default": dj_database_url.parse(os.environ["PEER_DATABASE_URL"], conn_max_age=300, conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = SQLITE_OPTIONS

# Celery, with Lepton's worker settings and results in the database (django-celery-results).
CELERY = {**WORKER_SETTINGS, "result_backend": "django-db", "task_default_queue": "peer"}

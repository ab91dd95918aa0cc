"""Lepton settings: every value comes from a LEPTON_* environment variable.

Defaults are safe and local: SQLite and an embedded Redis under the data folder,
DEBUG off, loopback hosts only. The README's configuration table lists them all.
"""

import os
import secrets
import sqlite3
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from lepton.brokers import AMQP_MAX_PRIORITY, is_amqp
from lepton.env import env_bool, env_float, env_int, env_list, env_mapping, env_str
from lepton.logs import logging_config
from lepton.private_files import private_dir, private_file, write_private_once

BASE_DIR = Path(__file__).resolve().parent.parent
# 0700, its files 0600 (lepton/private_files.py): it holds the database and secrets.
DATA_DIR = private_dir(Path(env_str("LEPTON_DATA_DIR", str(BASE_DIR / "var"))).resolve())


def _local_secret_key():
    """A key generated once per data folder, for machines where none is configured."""
    path = DATA_DIR / "secret-key"
    write_private_once(path, secrets.token_urlsafe(50))
    return path.read_text(encoding="ascii").strip()


SECRET_KEY = env_str("LEPTON_SECRET_KEY") or _local_secret_key()
DEBUG = env_bool("LEPTON_DEBUG", False)
ALLOWED_HOSTS = env_list("LEPTON_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("LEPTON_CSRF_TRUSTED_ORIGINS", [])

# Behind TLS (LEPTON_HTTPS=true) cookies are secure and plain HTTP is redirected.
HTTPS = env_bool("LEPTON_HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("LEPTON_HSTS_SECONDS", 31536000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_htmx",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "jobs",
    "monitoring",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "lepton.urls"
WSGI_APPLICATION = "lepton.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "jobs.web.context.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------
# SQLite runs in WAL mode with IMMEDIATE transactions and a busy timeout, so the web
# server and several worker processes can write without "database is locked".
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL",
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
}
DATABASES = {
    "default": dj_database_url.parse(
        env_str("LEPTON_DATABASE_URL") or f"sqlite:///{DATA_DIR / 'lepton.sqlite3'}",
        conn_max_age=env_int("LEPTON_DB_CONN_MAX_AGE", 300, minimum=0),
        conn_health_checks=True,
    )
}
if not env_str("LEPTON_DATABASE_URL"):
    # Created 0600 before SQLite first opens it; SQLite gives -wal and -shm the same mode.
    private_file(DATA_DIR / "lepton.sqlite3")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if sqlite3.sqlite_version_info < (3, 35):
        # jobs.hot_sql claims and counts with UPDATE ... RETURNING.
        raise ImproperlyConfigured(f"Lepton needs SQLite 3.35 or later; this Python has {sqlite3.sqlite_version}")
    DATABASES["default"]["OPTIONS"] = SQLITE_OPTIONS
    # Worker processes in the test suite open the test database by path: keep it a file.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-lepton.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Static files are served from the app directories without collectstatic.
WHITENOISE_USE_FINDERS = True

# --- Web pages (jobs/web, monitoring feedback) -------------------------------------
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/jobs/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
#: Largest file a user may upload on a job form instead of pasting a list.
LEPTON_WEB_UPLOAD_MAX_BYTES = env_int("LEPTON_WEB_UPLOAD_MAX_BYTES", 10 * 1024 * 1024, minimum=1)
#: Where users reach the site: invitation links printed by `lepton_user --invite` start with it.
LEPTON_SITE_URL = env_str("LEPTON_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
#: Sender of invitation mails.
DEFAULT_FROM_EMAIL = env_str("LEPTON_FROM_EMAIL", "lepton@localhost")

# API throttling counts requests in this cache. The default is per process; point
# LEPTON_CACHE_URL at Redis (redis://host:6379/1) to share counts between web processes.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env_str("LEPTON_CACHE_URL")}
        if env_str("LEPTON_CACHE_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Largest request body accepted: 16 MiB holds the largest job each type accepts (500,000
# `stats` numbers of any spelling, 2 M characters of `wordcount` text in any script) and keeps a
# web process under about 300 MB (tests/integration/test_web_memory.py; at 32 MiB a
# `stats` request peaked at 311 MiB).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("LEPTON_MAX_REQUEST_BYTES", 16 * 1024 * 1024, minimum=1024)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "jobs.api.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": env_int("LEPTON_API_PAGE_SIZE", 50, minimum=1),
    "DEFAULT_RENDERER_CLASSES": ["jobs.api.renderers.SafeJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["jobs.api.parsers.BodyJSONParser"],
    "EXCEPTION_HANDLER": "jobs.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["jobs.api.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env_str("LEPTON_API_RATE", "1200/minute")},
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# --- API contract (jobs/api/openapi.py) ----------------------------------------------
# The OpenAPI 3 schema is generated from the code at /api/schema/; /api/docs/ shows it
# with Swagger UI served from this app (drf-spectacular-sidecar), never from a CDN.
SPECTACULAR_SETTINGS = {
    "TITLE": "Lepton API",
    "DESCRIPTION": (
        "Submit jobs, watch them, cancel and retry them. Every 4xx body is a JSON object "
        "naming the field at fault (or `detail`); over a limit the answer is 429 with Retry-After."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "jobs.models.Job.Status",
        "SubtaskStatusEnum": "jobs.models.Subtask.Status",
    },
}

# --- Logs (lepton/logs.py) ---------------------------------------------------------
# key=value lines for humans by default; LEPTON_LOG_FORMAT=json for one JSON object per
# line, with job_id, subtask_id, attempt and worker as fields on every pipeline line.
LOGGING = logging_config(env_str("LEPTON_LOG_FORMAT", "keyvalue"), env_str("LEPTON_LOG_LEVEL", "INFO"))

# --- Broker and Celery --------------------------------------------------------------
# With no LEPTON_BROKER_URL, `make run` starts an embedded Redis on a unix socket in the
# data folder; every process (web, workers, beat, CLI) finds it there.
EMBEDDED_REDIS_SOCKET = DATA_DIR / "redis.sock"
USE_EMBEDDED_REDIS = not env_str("LEPTON_BROKER_URL")
BROKER_URL = env_str("LEPTON_BROKER_URL") or f"redis+socket://{EMBEDDED_REDIS_SOCKET}"

LEPTON_QUEUES = env_list("LEPTON_QUEUES", ["default", "cpu", "io"])
#: Queue of the platform's own housekeeping (the reconciler); kept apart so it is not
#: stuck behind a backlog of subtasks.
CONTROL_QUEUE = "control"

CELERY_BROKER_URL = BROKER_URL
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# RabbitMQ (lepton/brokers.py): real priority queues, declared with x-max-priority.
CELERY_TASK_QUEUE_MAX_PRIORITY = AMQP_MAX_PRIORITY if is_amqp(BROKER_URL) else None
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Redis emulates priorities with one list per step; 0 is served first.
    "priority_steps": [0, 3, 6, 9],
    "sep": ":",
    "queue_order_strategy": "priority",
    "visibility_timeout": env_int("LEPTON_VISIBILITY_TIMEOUT", 3600, minimum=1),
}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_EVENT_SERIALIZER = "json"
# The database holds every result; Celery's result backend is not used.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_SEND_TASK_EVENTS = env_bool("LEPTON_TASK_EVENTS", True)
CELERY_TASK_SEND_SENT_EVENT = False
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = [Queue(name) for name in [*LEPTON_QUEUES, CONTROL_QUEUE]]
CELERY_TASK_ROUTES = {
    "jobs.tasks.reconcile": {"queue": CONTROL_QUEUE},
    "jobs.tasks.review_workers": {"queue": CONTROL_QUEUE},
    "jobs.tasks.prune_history": {"queue": CONTROL_QUEUE},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fixup closes the database connection around every task unless this is
# set; it recycles them only after this many tasks, and jobs.connections closes them as
# Django does after a request (CONN_MAX_AGE, broken, left in a transaction).
CELERY_DB_REUSE_MAX = 1_000_000
# With REMAP_SIGTERM=SIGQUIT in the worker's environment (make run, compose and the tests
# set it), SIGTERM lets running subtasks finish for this long; jobs.shutdown hands back
# the rest at once.
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = env_float("LEPTON_SHUTDOWN_GRACE_SECONDS", 10.0, minimum=0.0)
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

RECONCILE_INTERVAL = env_float("LEPTON_RECONCILE_SECONDS", 1.0, minimum=0.1)
QUARANTINE_REVIEW_INTERVAL = env_float("LEPTON_QUARANTINE_REVIEW_SECONDS", 5.0, minimum=0.1)
#: How often the retention pass (jobs.retention) prunes old history.
RETENTION_INTERVAL = env_float("LEPTON_RETENTION_INTERVAL_SECONDS", 300.0, minimum=1.0)
CELERY_BEAT_SCHEDULE = {
    "reconcile": {
        "task": "jobs.tasks.reconcile",
        "schedule": RECONCILE_INTERVAL,
        # A tick nobody ran in time is superseded by the next one.
        "options": {"expires": RECONCILE_INTERVAL * 5},
    },
    "review-workers": {
        "task": "jobs.tasks.review_workers",
        "schedule": QUARANTINE_REVIEW_INTERVAL,
        "options": {"expires": QUARANTINE_REVIEW_INTERVAL * 5},
    },
    "prune-history": {
        "task": "jobs.tasks.prune_history",
        "schedule": RETENTION_INTERVAL,
        "options": {"expires": 60},
    },
}

# --- The pipeline -------------------------------------------------------------------
LEPTON_JOB_TYPE_MODULES = [
    "jobs.jobtypes.wordcount",
    "jobs.jobtypes.primes",
    "jobs.jobtypes.stats",
    "jobs.jobtypes.diagnostic",
    *env_list("LEPTON_JOB_TYPE_MODULES", []),
]
LEPTON_MAX_SUBTASKS_PER_JOB = env_int("LEPTON_MAX_SUBTASKS_PER_JOB", 100_000, minimum=1)
#: Messages of one job in the broker at once; completions dispatch the next ones.
#: 0 derives it from the live workers' total concurrency (jobs.load.job_window).
LEPTON_JOB_WINDOW = env_int("LEPTON_JOB_WINDOW", 0, minimum=0)
#: Short subtasks travel several to a message, about this many ms of work per message,
#: at most LEPTON_MAX_BATCH (jobs.execution.next_batch).
LEPTON_BATCH_TARGET_MS = env_float("LEPTON_BATCH_TARGET_MS", 20.0, minimum=0.0)
LEPTON_MAX_BATCH = env_int("LEPTON_MAX_BATCH", 16, minimum=1)
#: A running subtask's lease; its worker renews it every third of this.
LEPTON_LEASE_SECONDS = env_float("LEPTON_LEASE_SECONDS", 12.0, minimum=1.0)
#: A worker's or web process's database transaction idle this long is ended by
#: PostgreSQL: its process is gone or cut off mid-transaction, and its row locks would
#: hold the job or its user's submissions (jobs.sessions).
LEPTON_DB_IDLE_TRANSACTION_SECONDS = env_float("LEPTON_DB_IDLE_TRANSACTION_SECONDS", 5.0, minimum=0.0)
#: On brokers that cannot be inspected (not Redis), a queued subtask unclaimed this long
#: has its message sent again (the first copy may have been lost); duplicates are no-ops.
LEPTON_REDISPATCH_SECONDS = env_float("LEPTON_REDISPATCH_SECONDS", 120.0, minimum=1.0)
#: On Redis the reconciler asks the broker which subtasks its messages still carry: a
#: queued subtask this old whose message is in neither a queue nor the unacked set is
#: sent again at once (its publish failed, or it was lost); a waiting backlog never is.
LEPTON_LOST_MESSAGE_GRACE_SECONDS = env_float("LEPTON_LOST_MESSAGE_GRACE_SECONDS", 5.0, minimum=0.0)
#: A job in `finalizing` whose combine step has not started this long gets it sent again.
LEPTON_FINALIZE_STALE_SECONDS = env_float("LEPTON_FINALIZE_STALE_SECONDS", 10.0, minimum=1.0)
# --- Time limits, combine, retention (jobs/dispatch, jobs/retention) ----------------
#: Seconds a subtask or combine step may run when its job type sets no limit: past it a
#: `timeout` error, and the process is killed a few seconds later, so a hung step is
#: failed over instead of renewing its lease forever.
LEPTON_DEFAULT_TIME_LIMIT_SECONDS = env_float("LEPTON_DEFAULT_TIME_LIMIT_SECONDS", 600.0, minimum=1.0)
#: Combine steps a job may start (each lost with its worker or killed at its limit)
#: before the reconciler fails the job.
LEPTON_MAX_COMBINE_ATTEMPTS = env_int("LEPTON_MAX_COMBINE_ATTEMPTS", 3, minimum=1)
#: A job whose type is not installed where the reconciler runs is skipped and marked;
#: still unknown after this long, it fails with a clear error.
LEPTON_UNKNOWN_TYPE_GRACE_SECONDS = env_float("LEPTON_UNKNOWN_TYPE_GRACE_SECONDS", 600.0, minimum=0.0)
#: A pool process that grows past this many MB is replaced after its current task, so
#: one subtask cannot take the host down (Celery's worker_max_memory_per_child).
LEPTON_WORKER_MAX_MEMORY_MB = env_int("LEPTON_WORKER_MAX_MEMORY_MB", 1024, minimum=16)
CELERY_WORKER_MAX_MEMORY_PER_CHILD = LEPTON_WORKER_MAX_MEMORY_MB * 1024  # Celery counts KiB
#: Retention (jobs.retention): finished jobs (with their subtasks, params and events)
#: older than this are deleted; RecoveryEvent and WorkerMinute rows too after their own
#: period, and Worker rows not seen for that long.
LEPTON_RETENTION_JOB_DAYS = env_float("LEPTON_RETENTION_JOB_DAYS", 30.0, minimum=0.0)
LEPTON_RETENTION_EVENT_DAYS = env_float("LEPTON_RETENTION_EVENT_DAYS", 7.0, minimum=0.0)
LEPTON_RETENTION_WORKER_DAYS = env_float("LEPTON_RETENTION_WORKER_DAYS", 7.0, minimum=0.0)
#: Rows deleted per statement and per pass: each delete holds SQLite's write lock briefly.
LEPTON_RETENTION_BATCH = env_int("LEPTON_RETENTION_BATCH", 500, minimum=1)
LEPTON_RETENTION_MAX_BATCHES = env_int("LEPTON_RETENTION_MAX_BATCHES", 20, minimum=1)

LEPTON_RETRY_BASE_SECONDS = env_float("LEPTON_RETRY_BASE_SECONDS", 0.5, minimum=0.0)
LEPTON_RETRY_MAX_SECONDS = env_float("LEPTON_RETRY_MAX_SECONDS", 30.0, minimum=0.0)
#: Workers report a heartbeat this often; one silent for three beats is not live.
LEPTON_WORKER_HEARTBEAT_SECONDS = env_float("LEPTON_WORKER_HEARTBEAT_SECONDS", 5.0, minimum=0.5)
#: Flaky-node quarantine (jobs.quarantine).
LEPTON_QUARANTINE_THRESHOLD = env_float("LEPTON_QUARANTINE_THRESHOLD", 0.5, minimum=0.0)
LEPTON_QUARANTINE_MIN_ATTEMPTS = env_int("LEPTON_QUARANTINE_MIN_ATTEMPTS", 20, minimum=1)
LEPTON_QUARANTINE_WINDOW_SECONDS = env_int("LEPTON_QUARANTINE_WINDOW_SECONDS", 600, minimum=60)
LEPTON_QUARANTINE_COOLDOWN_SECONDS = env_int("LEPTON_QUARANTINE_COOLDOWN_SECONDS", 300, minimum=1)

#: Admission control (jobs.admission): over a limit, a submission is refused with 429.
LEPTON_MAX_ACTIVE_JOBS_PER_USER = env_int("LEPTON_MAX_ACTIVE_JOBS_PER_USER", 50, minimum=1)
LEPTON_MAX_OUTSTANDING_SUBTASKS_PER_USER = env_int("LEPTON_MAX_OUTSTANDING_SUBTASKS_PER_USER", 500_000, minimum=1)
LEPTON_MAX_OUTSTANDING_SUBTASKS = env_int("LEPTON_MAX_OUTSTANDING_SUBTASKS", 2_000_000, minimum=1)
#: Seconds a refused client is told to wait (the Retry-After header).
LEPTON_ADMISSION_RETRY_AFTER = env_int("LEPTON_ADMISSION_RETRY_AFTER", 10, minimum=1)
#: Job type -> queue overrides, e.g. "primes=cpu,wordcount=io"; the type's own queue otherwise.
LEPTON_ROUTES = env_mapping("LEPTON_ROUTES", {})
#: User the CLI submits as when --user is not given.
LEPTON_CLI_USER = env_str("LEPTON_CLI_USER", "admin")

# --- Abuse resistance (jobs.restrictions, jobs.userjson, jobs.params_summary) -------
#: Job types only users with jobs.submit_restricted_job (staff by default) may submit.
#: Unset means `diagnostic`; set but empty opens every type to every user.
LEPTON_RESTRICTED_JOB_TYPES = [
    name.strip() for name in env_str("LEPTON_RESTRICTED_JOB_TYPES", "diagnostic").split(",") if name.strip()
]

# --- Processes started by `make run` (docker-compose sets its own) ------------------
LEPTON_BIND = env_str("LEPTON_BIND", "127.0.0.1")
LEPTON_PORT = env_int("LEPTON_PORT", 8000, minimum=1)
LEPTON_FLOWER_PORT = env_int("LEPTON_FLOWER_PORT", 5555, minimum=1)
LEPTON_WEB_WORKERS = env_int("LEPTON_WEB_WORKERS", 2, minimum=1)
LEPTON_WORKER_CONCURRENCY = env_int("LEPTON_WORKER_CONCURRENCY", os.cpu_count() or 2, minimum=1)

# --- `make run`'s log files ---------------------------------------------------------
#: Each process's log under DATA_DIR/log/ rolls over past this size (name.log ->
#: name.log.1 -> ...), keeping this many old files.
LEPTON_LOG_MAX_BYTES = env_int("LEPTON_LOG_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
LEPTON_LOG_BACKUPS = env_int("LEPTON_LOG_BACKUPS", 5, minimum=1)

# --- Login throttle ---------------------------------------------------------------
# Login throttle (lepton/login_throttle.py, django-axes): after this many failed logins
# for one user name from one address, that pair is refused (429) until the cool-off ends.
LEPTON_LOGIN_FAILURE_LIMIT = env_int("LEPTON_LOGIN_FAILURE_LIMIT", 10, minimum=1)
LEPTON_LOGIN_COOLOFF_MINUTES = env_float("LEPTON_LOGIN_COOLOFF_MINUTES", 15.0, minimum=0.1)
#: True when requests arrive through Lepton's nginx (compose sets it): the client address
#: is then nginx's X-Real-IP, not the socket's peer.
LEPTON_BEHIND_PROXY = env_bool("LEPTON_BEHIND_PROXY", False)
INSTALLED_APPS += ["axes"]
AUTHENTICATION_BACKENDS = [
    "lepton.login_throttle.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = LEPTON_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LEPTON_LOGIN_COOLOFF_MINUTES)
# Per pair, so an attacker cannot lock a user out from everywhere, nor one address out
# for everyone behind it.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Its start-up banner would open every manage.py command and worker log.
AXES_VERBOSE = False
# Only failures are kept (and expire with the cool-off): no row per successful login.
AXES_DISABLE_ACCESS_LOG = True
AXES_CLIENT_IP_CALLABLE = "lepton.login_throttle.client_ip"
AXES_LOCKOUT_CALLABLE = "lepton.login_throttle.lockout_response"
# Last: it turns a locked-out login into lockout_response.
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]

# --- Monitoring: health page, snapshots, /readyz, /metrics (monitoring/) -------------
#: A worker silent this long is `gone` (between three heartbeats and this: `stale`)...
LEPTON_HEALTH_WORKER_GONE_SECONDS = env_float("LEPTON_HEALTH_WORKER_GONE_SECONDS", 60.0, minimum=1.0)
#: ...and is folded away from the health page and figures once silent this long.
LEPTON_HEALTH_GONE_FOLD_SECONDS = env_float("LEPTON_HEALTH_GONE_FOLD_SECONDS", 3600.0, minimum=1.0)
#: Where the health page links to Flower.
LEPTON_FLOWER_URL = env_str("LEPTON_FLOWER_URL", "http://127.0.0.1:5555/")
#: Per-minute snapshots (charts, history) older than this are pruned; counters keep their totals.
LEPTON_SNAPSHOT_RETENTION_DAYS = env_int("LEPTON_SNAPSHOT_RETENTION_DAYS", 14, minimum=1)
#: /readyz warns when the reconciler has not succeeded for this long (a few ticks).
LEPTON_RECONCILER_STALE_SECONDS = env_float(
    "LEPTON_RECONCILER_STALE_SECONDS", max(30.0, 10 * RECONCILE_INTERVAL), minimum=1.0
)
#: Bearer token for /metrics; unset: loopback clients only.
LEPTON_METRICS_TOKEN = env_str("LEPTON_METRICS_TOKEN")
#: A /metrics answer is reused this long, so a 1 s scrape costs little.
LEPTON_METRICS_CACHE_SECONDS = env_float("LEPTON_METRICS_CACHE_SECONDS", 5.0, minimum=0.0)
CELERY_TASK_ROUTES["monitoring.tasks.take_snapshot"] = {"queue": CONTROL_QUEUE}
CELERY_BEAT_SCHEDULE["take-snapshot"] = {
    "task": "monitoring.tasks.take_snapshot",
    "schedule": 60.0,
    "options": {"expires": 120.0},
}
SECURE_REDIRECT_EXEMPT += [r"^livez$"]
MIDDLEWARE.insert(0, "monitoring.middleware.LivenessMiddleware")

# --- Alerts, notifications, the canary, stuck consumers (monitoring/) --------------
#: Alert rules are evaluated this often (beat, single-flight, control queue).
LEPTON_ALERT_EVALUATION_SECONDS = env_float("LEPTON_ALERT_EVALUATION_SECONDS", 15.0, minimum=1.0)
#: Addresses mailed about every alert, besides the notification channels in admin.
LEPTON_ALERT_EMAILS = env_list("LEPTON_ALERT_EMAILS", [])
LEPTON_ALERT_EMAIL_FROM = env_str("LEPTON_ALERT_EMAIL_FROM", "lepton@localhost")
#: Django's console backend prints mail to the worker's log until SMTP is configured.
EMAIL_BACKEND = env_str("LEPTON_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("LEPTON_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("LEPTON_EMAIL_PORT", 25, minimum=1)
#: A webhook attempt gives up after this long; a notification after this many attempts,
#: waiting backoff * 2^(n-1) seconds between them.
LEPTON_ALERT_WEBHOOK_TIMEOUT_SECONDS = env_float("LEPTON_ALERT_WEBHOOK_TIMEOUT_SECONDS", 5.0, minimum=0.1)
LEPTON_ALERT_DELIVERY_TRIES = env_int("LEPTON_ALERT_DELIVERY_TRIES", 3, minimum=1)
LEPTON_ALERT_DELIVERY_BACKOFF_SECONDS = env_float("LEPTON_ALERT_DELIVERY_BACKOFF_SECONDS", 2.0, minimum=0.0)
LEPTON_ALERT_RETENTION_DAYS = env_int("LEPTON_ALERT_RETENTION_DAYS", 30, minimum=1)
#: One canary job per job queue this often; 0 turns the canary off.
LEPTON_CANARY_SECONDS = env_float("LEPTON_CANARY_SECONDS", 60.0, minimum=0.0)
#: A canary run not finished this long after submission counts as failed.
LEPTON_CANARY_DEADLINE_SECONDS = env_float("LEPTON_CANARY_DEADLINE_SECONDS", 120.0, minimum=1.0)
LEPTON_CANARY_RETENTION_DAYS = env_int("LEPTON_CANARY_RETENTION_DAYS", 7, minimum=1)
#: A live worker with free slots that claims nothing from a non-empty queue this long is stuck.
LEPTON_STUCK_CONSUMER_SECONDS = env_float("LEPTON_STUCK_CONSUMER_SECONDS", 60.0, minimum=1.0)
LEPTON_STUCK_CONSUMER_RESTART = env_bool("LEPTON_STUCK_CONSUMER_RESTART", False)
LEPTON_JOB_TYPE_MODULES.append("jobs.jobtypes.canary")
CELERY_IMPORTS = ["monitoring.alerting.tasks", "monitoring.restart_command"]
CELERY_TASK_ROUTES.update(
    {
        "monitoring.evaluate_alerts": {"queue": CONTROL_QUEUE},
        "monitoring.send_notification": {"queue": CONTROL_QUEUE},
        "monitoring.run_canary": {"queue": CONTROL_QUEUE},
        "monitoring.prune_alerting": {"queue": CONTROL_QUEUE},
    }
)
CELERY_BEAT_SCHEDULE.update(
    {
        "evaluate-alerts": {
            "task": "monitoring.evaluate_alerts",
            "schedule": LEPTON_ALERT_EVALUATION_SECONDS,
            "options": {"expires": LEPTON_ALERT_EVALUATION_SECONDS * 2},
        },
        "prune-alerting": {"task": "monitoring.prune_alerting", "schedule": 3600.0, "options": {"expires": 600}},
        **(
            {
                "canary": {
                    "task": "monitoring.run_canary",
                    "schedule": LEPTON_CANARY_SECONDS,
                    "options": {"expires": LEPTON_CANARY_SECONDS},
                }
            }
            if LEPTON_CANARY_SECONDS
            else {}
        ),
    }
)

# --- Security headers and Flower ----------------------------------------------------
# Django's SecurityMiddleware and XFrameOptionsMiddleware send
# nosniff, Referrer-Policy and X-Frame-Options: DENY; lepton/csp.py adds this policy to
# every HTML page.
LEPTON_CONTENT_SECURITY_POLICY = env_str(
    "LEPTON_CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'",
)
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "lepton.csp.ContentSecurityPolicyMiddleware")
# Flower: always behind basic auth (lepton/run.py, docker-compose.yml). Without a
# password set, `make run` generates one into DATA_DIR/flower-credentials (0600) on first
# run and prints it once. No comma or colon in either (Flower's list syntax).
LEPTON_FLOWER_USER = env_str("LEPTON_FLOWER_USER", "flower")
LEPTON_FLOWER_PASSWORD = env_str("LEPTON_FLOWER_PASSWORD")
# Task events for jobs' messages only: housekeeping routed to the control queue sends
# none (lepton/task_events.py), so Flower's task list is not a flood of ticks.
CELERY_TASK_ANNOTATIONS = ["lepton.task_events.QuietControlPlane"]

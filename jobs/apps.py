from django.apps import AppConfig
from django.conf import settings


class JobsConfig(AppConfig):
    name = "jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.backends.signals import connection_created

        # workers, sessions and connections connect Celery worker signals.
        from jobs import connections, registry, sessions, workers  # noqa: F401
        from jobs.jsoncolumn import read_json_as_text

        connection_created.connect(read_json_as_text, dispatch_uid="jobs.read_json_as_text")
        registry.load(settings.LEPTON_JOB_TYPE_MODULES)

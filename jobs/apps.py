from django.apps import AppConfig
from django.conf import settings


class JobsConfig(AppConfig):
    name = "jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # workers and connections connect Celery worker signals.
        from jobs import connections, registry, workers  # noqa: F401

        registry.load(settings.LEPTON_JOB_TYPE_MODULES)

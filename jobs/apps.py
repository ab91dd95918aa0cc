from django.apps import AppConfig
from django.conf import settings


class JobsConfig(AppConfig):
    name = "jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from jobs import registry, shutdown  # noqa: F401  (shutdown connects a worker signal)

        registry.load(settings.LEPTON_JOB_TYPE_MODULES)

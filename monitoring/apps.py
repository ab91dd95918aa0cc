from django.apps import AppConfig
from django.db.models.signals import post_migrate


class MonitoringConfig(AppConfig):
    """Health and metrics; reads `jobs` models, never the other way round."""

    name = "monitoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        post_migrate.connect(_after_migrate, sender=self)


def _after_migrate(sender, using="default", **kwargs):
    """Shipped alert rules and the roles, created when missing (monalerts)."""
    from monitoring.alerting.defaults import ensure_default_rules
    from monitoring.roles import ensure_roles

    ensure_default_rules()
    ensure_roles()

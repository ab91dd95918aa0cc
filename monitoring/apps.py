from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    """Health and metrics; reads `jobs` models, never the other way round."""

    name = "monitoring"

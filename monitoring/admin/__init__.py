from monitoring.admin import alerts, health  # noqa: F401

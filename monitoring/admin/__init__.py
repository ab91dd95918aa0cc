from monitoring.admin import health  # noqa: F401

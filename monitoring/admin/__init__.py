from monitoring.admin import alerts  # noqa: F401

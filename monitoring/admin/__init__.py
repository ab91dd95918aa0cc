from monitoring.admin import feedback  # noqa: F401

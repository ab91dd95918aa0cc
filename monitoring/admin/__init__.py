from monitoring.admin import alerts, feedback, health  # noqa: F401  (each registers its admin)

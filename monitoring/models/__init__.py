from monitoring.models.feedback import Feedback  # noqa: F401

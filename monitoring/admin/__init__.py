from monitoring.admin import alerts  # noqa: F401
from monitoring.admin import feedback  # noqa: F401
from monitoring.admin import health  # noqa: F401

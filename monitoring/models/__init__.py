from monitoring.models.health import Health
from monitoring.models.snapshots import MetricTotal, Snapshot

__all__ = ["Health", "MetricTotal", "Snapshot"]
from monitoring.models.alerts import Alert, AlertRule, DeliveryAttempt, Notification, NotificationChannel, Silence  # noqa: F401
from monitoring.models.canary import CanaryRun  # noqa: F401
from monitoring.models.feedback import Feedback  # noqa: F401

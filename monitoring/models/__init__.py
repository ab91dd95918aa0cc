from monitoring.models.alerts import Alert, AlertRule, DeliveryAttempt, Notification, NotificationChannel, Silence
from monitoring.models.canary import CanaryRun
from monitoring.models.feedback import Feedback
from monitoring.models.health import Health
from monitoring.models.snapshots import MetricTotal, Snapshot

__all__ = [
    "Alert", "AlertRule", "CanaryRun", "DeliveryAttempt", "Feedback", "Health", "MetricTotal",
    "Notification", "NotificationChannel", "Silence", "Snapshot",
]

from monitoring.models.alerts import Alert, AlertRule, DeliveryAttempt, Notification, NotificationChannel, Silence  # noqa: F401
from monitoring.models.canary import CanaryRun  # noqa: F401

"""Health page panel: alerts firing and pending, recently resolved, and stuck consumers."""

from datetime import timedelta

from monitoring import stuck
from monitoring.models.alerts import Alert

TITLE = "Alerts"
TEMPLATE = "monitoring/panels/alerts.html"
#: "Recently resolved" looks back this far, and lists at most RECENT of them.
RESOLVED_WINDOW = timedelta(hours=24)
RECENT = 10


def context(now):
    open_alerts = list(
        Alert.objects.filter(resolved_at__isnull=True).select_related("rule").order_by("state", "-started_at")
    )
    resolved = list(
        Alert.objects.filter(resolved_at__gte=now - RESOLVED_WINDOW, fired_at__isnull=False)
        .select_related("rule").order_by("-resolved_at")[:RECENT]
    )
    return {
        "firing": [alert for alert in open_alerts if alert.state == Alert.State.FIRING],
        "pending": [alert for alert in open_alerts if alert.state == Alert.State.PENDING],
        "resolved": resolved,
        "stuck_consumers": stuck.stuck_consumers(now),
        "now": now,
    }

from monitoring.models.health import Health
from monitoring.models.snapshots import MetricTotal, Snapshot

__all__ = ["Health", "MetricTotal", "Snapshot"]

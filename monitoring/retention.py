"""Bounded history (invariant 12) for alerting and the canary: resolved alerts and their
notifications after LEPTON_ALERT_RETENTION_DAYS, canary runs and the canary's finished
jobs after LEPTON_CANARY_RETENTION_DAYS. Open alerts are never pruned."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from jobs.models import Job
from monitoring.canary import CANARY_USERNAME
from monitoring.models.alerts import Alert, Notification
from monitoring.models.canary import CanaryRun


def prune(now=None):
    """Delete what is past retention; returns {what: rows deleted}."""
    now = now or timezone.now()
    alert_horizon = now - timedelta(days=settings.LEPTON_ALERT_RETENTION_DAYS)
    canary_horizon = now - timedelta(days=settings.LEPTON_CANARY_RETENTION_DAYS)
    return {
        # Test notifications have no alert; alert notifications go with their alert.
        "notifications": _delete(Notification.objects.filter(alert__isnull=True, created_at__lt=alert_horizon)),
        "alerts": _delete(Alert.objects.filter(resolved_at__lt=alert_horizon)),
        "canary_runs": _delete(
            CanaryRun.objects.filter(submitted_at__lt=canary_horizon).exclude(outcome=CanaryRun.Outcome.RUNNING)
        ),
        "canary_jobs": _delete(
            Job.objects.filter(owner__username=CANARY_USERNAME, status__in=Job.FINAL, created_at__lt=canary_horizon)
        ),
    }


def _delete(queryset):
    """Rows of the queryset's own model deleted (cascaded rows go with them)."""
    return queryset.delete()[1].get(queryset.model._meta.label, 0)

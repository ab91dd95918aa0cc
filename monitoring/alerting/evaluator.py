"""One evaluation pass: read each enabled rule's signal, write the alert changes, queue
notifications (sent after commit by their own task).

A rule whose signal raises is logged and skipped; the other rules are still evaluated
(invariant 10: the control plane never stops for one bad row). A disabled rule's open
alerts resolve.
"""

import logging

from django.db import transaction
from django.utils import timezone

from monitoring.alerting import notify
from monitoring.alerting.evaluation import FIRING, PENDING, RESOLVED, OpenAlert, describe, evaluate, fingerprint, silenced
from monitoring.alerting.signals import Readings
from monitoring.models.alerts import Alert, AlertRule, Silence

log = logging.getLogger(__name__)


def evaluate_rules(now=None, readings=None):
    """Evaluate every rule; returns {rule name: number of alerts firing after the pass}."""
    now = now or timezone.now()
    readings = readings or Readings(now)
    firing = {}
    for rule in AlertRule.objects.all():
        if rule.enabled:
            try:
                samples = readings.samples(rule)
            except Exception:
                log.exception("event=alert_signal_failed rule=%r signal=%s", rule.name, rule.signal)
                continue
        else:
            samples = []
        firing[rule.name] = apply(rule, samples, now)
    return firing


def apply(rule, samples, now):
    """Write one rule's changes; returns how many of its alerts are firing afterwards."""
    open_rows = {alert.pk: alert for alert in Alert.objects.filter(rule=rule, resolved_at__isnull=True)}
    changes = evaluate(
        rule.comparison, rule.threshold, rule.for_seconds,
        samples, [OpenAlert(a.pk, a.labels, a.state, a.started_at) for a in open_rows.values()], now,
    )
    silences = list(Silence.objects.filter(rule=rule, ends_at__gt=now))
    with transaction.atomic():
        for labels, value, state in changes.created:
            alert = Alert.objects.create(
                rule=rule, labels=labels, fingerprint=fingerprint(labels), state=state, value=value,
                summary=describe(rule.message, labels, value, rule.threshold),
                started_at=now, fired_at=now if state == FIRING else None, last_evaluated_at=now,
            )
            if state == FIRING:
                _notify(alert, FIRING, silences, now)
        for alert_id, value in changes.fired:
            alert = open_rows[alert_id]
            summary = describe(rule.message, alert.labels, value, rule.threshold)
            if Alert.objects.filter(pk=alert_id, state=PENDING).update(
                state=FIRING, fired_at=now, value=value, summary=summary, last_evaluated_at=now
            ):
                alert.state, alert.fired_at, alert.value, alert.summary = FIRING, now, value, summary
                _notify(alert, FIRING, silences, now)
        for alert_id, had_fired in changes.resolved:
            alert = open_rows[alert_id]
            if Alert.objects.filter(pk=alert_id, resolved_at__isnull=True).update(
                state=RESOLVED, resolved_at=now, last_evaluated_at=now
            ) and had_fired:
                alert.state, alert.resolved_at = RESOLVED, now
                _notify(alert, RESOLVED, silences, now)
        for alert_id, value in changes.still:
            Alert.objects.filter(pk=alert_id).update(value=value, last_evaluated_at=now)
    return Alert.objects.filter(rule=rule, state=FIRING).count()


def _notify(alert, event, silences, now):
    if silenced(silences, alert.labels, now):
        log.info("event=alert_notification_silenced rule=%r labels=%s", alert.rule.name, alert.fingerprint)
        return
    notify.queue_for_alert(alert, event)

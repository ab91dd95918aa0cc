"""Celery entry points of alerting and the canary, on the control queue (settings route
them there); imported by workers through CELERY_IMPORTS."""

from celery import shared_task
from django.conf import settings

from jobs.singleflight import run_exclusively
from monitoring import canary, retention
from monitoring.alerting import notify
from monitoring.alerting.evaluator import evaluate_rules


@shared_task(name="monitoring.evaluate_alerts")
def evaluate_alerts():
    lease = max(60.0, 4 * settings.LEPTON_ALERT_EVALUATION_SECONDS)
    return run_exclusively("evaluate_alerts", evaluate_rules, lease_seconds=lease)


@shared_task(name="monitoring.send_notification")
def send_notification(notification_id):
    delay = notify.attempt(notification_id)
    if delay is not None:
        send_notification.apply_async((notification_id,), countdown=delay)


@shared_task(name="monitoring.run_canary")
def run_canary():
    lease = max(60.0, 2 * settings.LEPTON_CANARY_SECONDS)
    return run_exclusively("canary", canary.run_pass, lease_seconds=lease)


@shared_task(name="monitoring.prune_alerting")
def prune_alerting():
    return run_exclusively("prune_alerting", retention.prune, lease_seconds=600)

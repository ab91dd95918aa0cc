"""Notifications: one row per alert event and destination, sent from its own task after
the alert row commits, so a slow webhook never holds up the evaluator.

Each attempt is a DeliveryAttempt row (outcome, HTTP status, error, duration). A failed
attempt is retried by scheduling the task again after a backoff (not by sleeping in a
worker), up to LEPTON_ALERT_DELIVERY_TRIES in all; then the notification is `failed`.

Webhook signature (documented in the README): the body is JSON; the headers carry
`X-Lepton-Timestamp: <unix seconds>` and `X-Lepton-Signature: sha256=<hex>`, the
HMAC-SHA256 under the channel's secret of `<timestamp>.<body bytes>`.
"""

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from monitoring.models.alerts import DeliveryAttempt, Notification, NotificationChannel

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 2000


def signature(secret, timestamp, body):
    """`sha256=<hex>` of HMAC-SHA256(secret, f"{timestamp}." + body)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def alert_payload(alert, event):
    rule = alert.rule
    return {
        "event": event,
        "alert_id": alert.pk,
        "rule": rule.name,
        "signal": rule.signal,
        "severity": rule.severity,
        "state": alert.state,
        "labels": alert.labels,
        "value": alert.value,
        "comparison": rule.comparison,
        "threshold": rule.threshold,
        "summary": alert.summary,
        "runbook_url": rule.runbook_url,
        "started_at": alert.started_at.isoformat(),
        "fired_at": alert.fired_at.isoformat() if alert.fired_at else None,
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
    }


def destinations():
    """(channel or None, kind, target): the enabled channels, plus LEPTON_ALERT_EMAILS."""
    found = [(channel, channel.kind, channel.target) for channel in NotificationChannel.objects.filter(enabled=True)]
    if settings.LEPTON_ALERT_EMAILS:
        found.append((None, NotificationChannel.Kind.EMAIL, ", ".join(settings.LEPTON_ALERT_EMAILS)))
    return found


def queue_for_alert(alert, event):
    """Create the alert event's notifications; each is sent once this transaction commits."""
    payload = alert_payload(alert, event)
    for channel, kind, target in destinations():
        _queue(Notification(alert=alert, channel=channel, kind=kind, target=target, event=event, payload=payload))


def queue_test(channel):
    """A test notification to one channel, sent once this transaction commits."""
    payload = {
        "event": Notification.Event.TEST,
        "rule": None,
        "summary": f"Test notification from Lepton to channel {channel.name!r}.",
        "sent_at": timezone.now().isoformat(),
    }
    return _queue(
        Notification(channel=channel, kind=channel.kind, target=channel.target, event=Notification.Event.TEST, payload=payload)
    )


def _queue(notification):
    # Imported here: the tasks module imports this one.
    from monitoring.alerting.tasks import send_notification

    notification.save()
    transaction.on_commit(lambda: send_notification.delay(notification.pk))
    return notification


def attempt(notification_id):
    """Make the next delivery attempt; the seconds to wait before another, or None when done."""
    notification = Notification.objects.select_related("channel").filter(
        pk=notification_id, status=Notification.Status.PENDING
    ).first()
    if notification is None:
        return None
    number = notification.attempts + 1
    # Claim attempt `number`: a duplicate task message finds the count moved on and stops.
    if not Notification.objects.filter(pk=notification.pk, attempts=number - 1).update(attempts=F("attempts") + 1):
        return None
    started = time.perf_counter()
    status_code, error = _send(notification)
    DeliveryAttempt.objects.create(
        notification=notification, number=number, ok=not error, status_code=status_code,
        error=error[:MAX_ERROR_CHARS], duration_seconds=time.perf_counter() - started,
    )
    tries = settings.LEPTON_ALERT_DELIVERY_TRIES
    if not error or number >= tries:
        status = Notification.Status.SENT if not error else Notification.Status.FAILED
        Notification.objects.filter(pk=notification.pk).update(status=status, finished_at=timezone.now())
        if error:
            log.warning("event=notification_failed id=%s target=%s error=%r", notification.pk, notification.target, error)
        return None
    return settings.LEPTON_ALERT_DELIVERY_BACKOFF_SECONDS * 2 ** (number - 1)


def _send(notification):
    """(HTTP status or None, error text or "")."""
    try:
        if notification.kind == NotificationChannel.Kind.WEBHOOK:
            secret = notification.channel.secret if notification.channel else ""
            return _post(notification.target, notification.payload, secret), ""
        _mail(notification)
        return None, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code} {exc.reason}"
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"


def _post(url, payload, secret):
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "User-Agent": "Lepton-Alerts", "X-Lepton-Timestamp": timestamp}
    if secret:
        headers["X-Lepton-Signature"] = signature(secret, timestamp, body)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=settings.LEPTON_ALERT_WEBHOOK_TIMEOUT_SECONDS) as response:
        return response.status


def _mail(notification):
    payload = notification.payload
    if payload.get("rule"):
        subject = f"[Lepton {payload['severity']}] {payload['event']}: {payload['summary']}"
    else:
        subject = "[Lepton] test notification"
    body = "\n".join(f"{key}: {value}" for key, value in payload.items())
    recipients = [address.strip() for address in notification.target.split(",") if address.strip()]
    send_mail(subject[:200], body, settings.LEPTON_ALERT_EMAIL_FROM, recipients, fail_silently=False)

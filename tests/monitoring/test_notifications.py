"""Notifications: signed webhooks against a real local HTTP server, retries, email, test sends."""

import json
import time

import pytest
from django.core import mail
from django.utils import timezone

from monitoring.alerting import notify
from monitoring.models import Alert, DeliveryAttempt, Notification, NotificationChannel
from tests.monitoring.alerting_helpers import rule
from tests.monitoring.webhook_receiver import Hook, verify

pytestmark = pytest.mark.django_db

SECRET = "s3cret-key"


def firing_notification(target, kind="webhook", secret=SECRET):
    channel = NotificationChannel.objects.create(name="hook", kind=kind, target=target, secret=secret)
    now = timezone.now()
    alert = Alert.objects.create(
        rule=rule(for_seconds=0), labels={"queue": "io"}, fingerprint='{"queue":"io"}', state="firing",
        value=400.0, summary="queue io waited 400s", started_at=now, fired_at=now, last_evaluated_at=now,
    )
    payload = notify.alert_payload(alert, "firing")
    return Notification.objects.create(alert=alert, channel=channel, kind=kind, target=target, event="firing", payload=payload)


def attempt_all(notification_id):
    """Every attempt the task chain would make, without waiting out the backoff."""
    delays = []
    while (delay := notify.attempt(notification_id)) is not None:
        delays.append(delay)
    return delays


def test_a_webhook_is_a_signed_json_post_verifiable_with_the_documented_recipe():
    with Hook([200]) as hook:
        notification = firing_notification(hook.url)
        attempt_all(notification.pk)

    headers, body = hook.requests[0]
    assert headers["Content-Type"] == "application/json"
    assert verify(headers, body, SECRET)
    assert not verify(headers, body, "another secret")
    assert abs(int(headers["X-Lepton-Timestamp"]) - time.time()) < 60
    sent = json.loads(body)
    assert (sent["event"], sent["rule"], sent["labels"], sent["severity"]) == ("firing", "backlog", {"queue": "io"}, "warning")
    assert Notification.objects.get(pk=notification.pk).status == "sent"


def test_it_retries_with_backoff_and_records_every_attempt(settings):
    settings.LEPTON_ALERT_DELIVERY_BACKOFF_SECONDS = 2.0
    with Hook([500, 503, 200]) as hook:
        notification = firing_notification(hook.url)
        delays = attempt_all(notification.pk)

    assert delays == [2.0, 4.0]
    assert len(hook.requests) == 3
    attempts = list(DeliveryAttempt.objects.filter(notification=notification).values_list("number", "ok", "status_code", "error"))
    assert attempts == [
        (1, False, 500, "HTTP 500 Internal Server Error"),
        (2, False, 503, "HTTP 503 Service Unavailable"),
        (3, True, 200, ""),
    ]
    assert Notification.objects.get(pk=notification.pk).status == "sent"


def test_it_gives_up_after_three_tries_and_records_the_failure():
    with Hook([500]) as hook:
        notification = firing_notification(hook.url)
        attempt_all(notification.pk)

    notification.refresh_from_db()
    assert (notification.status, notification.attempts, len(hook.requests)) == ("failed", 3, 3)
    assert notification.finished_at is not None
    assert DeliveryAttempt.objects.filter(notification=notification, ok=False).count() == 3


def test_a_slow_webhook_times_out_and_the_error_is_stored(settings):
    settings.LEPTON_ALERT_WEBHOOK_TIMEOUT_SECONDS = 0.3
    settings.LEPTON_ALERT_DELIVERY_TRIES = 1
    with Hook([200], delay=2.0) as hook:
        notification = firing_notification(hook.url)
        attempt_all(notification.pk)

    attempt = DeliveryAttempt.objects.get(notification=notification)
    assert not attempt.ok and "timed out" in attempt.error
    assert attempt.duration_seconds < 2.0


def test_an_unreachable_webhook_is_a_recorded_failure_not_an_exception(settings):
    settings.LEPTON_ALERT_DELIVERY_TRIES = 1
    notification = firing_notification("http://127.0.0.1:9/closed")
    attempt_all(notification.pk)
    attempt = DeliveryAttempt.objects.get(notification=notification)
    assert not attempt.ok and "Connection refused" in attempt.error


def test_a_second_copy_of_the_task_does_not_send_twice():
    with Hook([200]) as hook:
        notification = firing_notification(hook.url)
        attempt_all(notification.pk)
        attempt_all(notification.pk)
    assert len(hook.requests) == 1


def test_an_email_notification_is_mailed():
    notification = firing_notification("ops@example.com, oncall@example.com", kind="email", secret="")
    attempt_all(notification.pk)

    message = mail.outbox[0]
    assert message.to == ["ops@example.com", "oncall@example.com"]
    assert message.subject == "[Lepton warning] firing: queue io waited 400s"
    assert Notification.objects.get(pk=notification.pk).status == "sent"

"""Notifications: signed webhooks against a real local HTTP server, retries, email, test sends."""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.utils import timezone

from lepton.celery import app as celery_app
from monitoring.alerting import notify
from monitoring.alerting.tasks import send_notification
from monitoring.models import Alert, DeliveryAttempt, Notification, NotificationChannel
from tests.monitoring.alerting_helpers import rule

pytestmark = pytest.mark.django_db

SECRET = "s3cret-key"


class Hook:
    """A webhook receiver on 127.0.0.1 answering with the given status codes in turn."""

    def __init__(self, statuses, delay=0.0):
        self.statuses = list(statuses)
        self.delay = delay
        self.requests = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.requests.append((dict(self.headers), body))
                time.sleep(hook.delay)
                status = hook.statuses.pop(0) if len(hook.statuses) > 1 else hook.statuses[0]
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def verify(headers, body, secret):
    """The documented recipe: HMAC-SHA256 of "<X-Lepton-Timestamp>." + raw body."""
    expected = hmac.new(secret.encode(), headers["X-Lepton-Timestamp"].encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(headers["X-Lepton-Signature"], "sha256=" + expected.hexdigest())


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


def test_the_task_reschedules_itself_until_delivered(settings):
    settings.LEPTON_ALERT_DELIVERY_BACKOFF_SECONDS = 0.0
    celery_app.conf.task_always_eager = True
    try:
        with Hook([500, 200]) as hook:
            notification = firing_notification(hook.url)
            send_notification.delay(notification.pk)
    finally:
        celery_app.conf.task_always_eager = False
    assert Notification.objects.get(pk=notification.pk).status == "sent"
    assert len(hook.requests) == 2


def test_an_email_notification_is_mailed():
    notification = firing_notification("ops@example.com, oncall@example.com", kind="email", secret="")
    attempt_all(notification.pk)

    message = mail.outbox[0]
    assert message.to == ["ops@example.com", "oncall@example.com"]
    assert message.subject == "[Lepton warning] firing: queue io waited 400s"
    assert Notification.objects.get(pk=notification.pk).status == "sent"

"""The notification path end to end: beat evaluates the rules on the control worker, the
watchdog fires, and its notification reaches a real webhook receiver, signed, on the
second try after the first one failed (the task reschedules itself after a backoff)."""

import json
import time

import pytest

from monitoring.models import AlertRule, Notification, NotificationChannel
from tests.monitoring.webhook_receiver import Hook, verify

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_watchdog_reaches_a_webhook_through_beat_and_the_control_worker(platform):
    AlertRule.objects.filter(name="Watchdog").update(enabled=True)
    with Hook([500, 200]) as hook:
        NotificationChannel.objects.create(name="receiver", kind="webhook", target=hook.url, secret="k")
        deadline = time.monotonic() + 90
        while not Notification.objects.filter(status="sent").exists() and time.monotonic() < deadline:
            time.sleep(0.2)

    assert len(hook.requests) == 2, "a first failed try and a second one"
    headers, body = hook.requests[1]
    assert verify(headers, body, "k")
    assert json.loads(body)["rule"] == "Watchdog"
    notification = Notification.objects.get(status="sent")
    assert (notification.payload["rule"], notification.attempts) == ("Watchdog", 2)
    assert list(notification.delivery_attempts.values_list("ok", "status_code")) == [(False, 500), (True, 200)]

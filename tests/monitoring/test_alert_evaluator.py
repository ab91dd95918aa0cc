"""monitoring.alerting.evaluator: alert rows, their states and notifications over passes."""

from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from monitoring.alerting.evaluator import evaluate_rules
from monitoring.models import Alert, AlertRule, Notification, NotificationChannel, Silence
from tests.monitoring.alerting_helpers import FixedReadings, rule

pytestmark = pytest.mark.django_db

BACKLOG = [({"queue": "io"}, 400.0)]
CLEAR = [({"queue": "io"}, 10.0)]


@pytest.fixture(autouse=True)
def only_test_rules():
    """The shipped rules (created by post_migrate) would read real figures; these tests
    drive their own rule with fixed samples."""
    AlertRule.objects.all().delete()


@pytest.fixture
def webhook_channel():
    return NotificationChannel.objects.create(name="ops hook", kind="webhook", target="http://127.0.0.1:9/hook")


def run(now, samples, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        evaluate_rules(now, FixedReadings(oldest_waiting=samples))
    return callbacks


def test_it_goes_pending_then_firing_after_for(django_capture_on_commit_callbacks, webhook_channel):
    backlog = rule(for_seconds=60)
    start = timezone.now()

    run(start, BACKLOG, django_capture_on_commit_callbacks)
    assert Alert.objects.get(rule=backlog).state == "pending"
    assert not Notification.objects.exists()

    run(start + timedelta(seconds=30), BACKLOG, django_capture_on_commit_callbacks)
    assert Alert.objects.get(rule=backlog).state == "pending"

    callbacks = run(start + timedelta(seconds=61), BACKLOG, django_capture_on_commit_callbacks)
    alert = Alert.objects.get(rule=backlog)
    assert (alert.state, alert.fired_at) == ("firing", start + timedelta(seconds=61))
    assert alert.summary == "queue io waited 400s"
    notification = Notification.objects.get()
    assert (notification.event, notification.target, notification.payload["labels"]) == (
        "firing", "http://127.0.0.1:9/hook", {"queue": "io"},
    )
    assert len(callbacks) == 1, "the notification is sent after the alert row commits"


def test_it_resolves_and_notifies_the_resolution(django_capture_on_commit_callbacks, webhook_channel):
    backlog = rule(for_seconds=0)
    start = timezone.now()
    run(start, BACKLOG, django_capture_on_commit_callbacks)

    run(start + timedelta(seconds=15), CLEAR, django_capture_on_commit_callbacks)

    alert = Alert.objects.get(rule=backlog)
    assert (alert.state, alert.resolved_at) == ("resolved", start + timedelta(seconds=15))
    assert list(Notification.objects.order_by("id").values_list("event", flat=True)) == ["firing", "resolved"]


def test_a_pending_alert_that_clears_resolves_without_notifying(django_capture_on_commit_callbacks, webhook_channel):
    backlog = rule(for_seconds=60)
    start = timezone.now()
    run(start, BACKLOG, django_capture_on_commit_callbacks)
    run(start + timedelta(seconds=15), CLEAR, django_capture_on_commit_callbacks)
    assert Alert.objects.get(rule=backlog).state == "resolved"
    assert not Notification.objects.exists()


def test_it_keeps_one_open_alert_per_rule_and_labels_and_the_history(django_capture_on_commit_callbacks):
    backlog = rule(for_seconds=0)
    start = timezone.now()
    for seconds, samples in enumerate([BACKLOG, BACKLOG, CLEAR, BACKLOG, BACKLOG]):
        run(start + timedelta(seconds=15 * seconds), samples, django_capture_on_commit_callbacks)

    assert Alert.objects.filter(rule=backlog, resolved_at__isnull=True).count() == 1
    assert Alert.objects.filter(rule=backlog, state="resolved").count() == 1


def test_the_database_refuses_a_second_open_alert_for_the_same_labels():
    backlog = rule()
    now = timezone.now()
    fields = dict(rule=backlog, labels={"queue": "io"}, fingerprint='{"queue":"io"}', started_at=now, last_evaluated_at=now)
    Alert.objects.create(**fields)
    with pytest.raises(IntegrityError):
        Alert.objects.create(**fields)


def test_a_silence_suppresses_the_notification_but_not_the_alert(
    django_capture_on_commit_callbacks, webhook_channel, owner
):
    backlog = rule(for_seconds=0)
    now = timezone.now()
    Silence.objects.create(
        rule=backlog, labels={"queue": "io"}, starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(hours=1),
        comment="io maintenance", created_by=owner,
    )

    run(now, [({"queue": "io"}, 400.0), ({"queue": "cpu"}, 400.0)], django_capture_on_commit_callbacks)

    assert Alert.objects.filter(rule=backlog, state="firing").count() == 2
    assert [n.payload["labels"] for n in Notification.objects.all()] == [{"queue": "cpu"}]


def test_an_expired_silence_suppresses_nothing(django_capture_on_commit_callbacks, webhook_channel, owner):
    backlog = rule(for_seconds=0)
    now = timezone.now()
    Silence.objects.create(
        rule=backlog, starts_at=now - timedelta(hours=2), ends_at=now - timedelta(hours=1), comment="over", created_by=owner
    )
    run(now, BACKLOG, django_capture_on_commit_callbacks)
    assert Notification.objects.count() == 1


def test_disabling_a_rule_resolves_its_open_alerts(django_capture_on_commit_callbacks):
    backlog = rule(for_seconds=0)
    now = timezone.now()
    run(now, BACKLOG, django_capture_on_commit_callbacks)
    AlertRule.objects.filter(pk=backlog.pk).update(enabled=False)

    run(now + timedelta(seconds=15), BACKLOG, django_capture_on_commit_callbacks)

    assert Alert.objects.get(rule=backlog).state == "resolved"


def test_a_signal_that_raises_does_not_stop_the_other_rules(django_capture_on_commit_callbacks):
    class Broken(FixedReadings):
        def samples(self, rule):
            if rule.signal == "failure_ratio":
                raise RuntimeError("figure unavailable")
            return super().samples(rule)

    rule(name="ratio", signal="failure_ratio", threshold=0.2, for_seconds=0)
    backlog = rule(for_seconds=0)

    evaluate_rules(timezone.now(), Broken(oldest_waiting=BACKLOG))

    assert Alert.objects.get(rule=backlog).state == "firing"


def test_lepton_alert_emails_get_every_notification(django_capture_on_commit_callbacks, settings):
    settings.LEPTON_ALERT_EMAILS = ["ops@example.com", "oncall@example.com"]
    rule(for_seconds=0)
    run(timezone.now(), BACKLOG, django_capture_on_commit_callbacks)
    notification = Notification.objects.get()
    assert (notification.kind, notification.target) == ("email", "ops@example.com, oncall@example.com")

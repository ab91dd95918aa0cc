"""Alert rules, the alerts they raise, silences, and notifications with every delivery attempt.

An alert is one row per (rule, label set) episode: pending -> firing -> resolved. At most
one is open (not resolved) per rule and label set, enforced by a partial unique index;
resolved rows stay as history until retention prunes them.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Signal(models.TextChoices):
    OLDEST_WAITING = "oldest_waiting", "Oldest waiting subtask age per queue (s)"
    FAILURE_RATIO = "failure_ratio", "Failed / finished subtasks over the window"
    WORKERS_ONLINE = "workers_online", "Live consumers per queue"
    STUCK_CONSUMER = "stuck_consumer", "Stuck consumer (1 per stuck worker)"
    RECONCILER_STALE = "reconciler_stale", "Seconds since the reconciler last succeeded"
    CANARY_FAILING = "canary_failing", "Consecutive failed canary runs per queue"
    WORKER_FAILURE_PROBABILITY = "worker_p_n", "P_n = failed / attempted of a worker"
    WATCHDOG = "watchdog", "Always 1: proves the notification path"


class Comparison(models.TextChoices):
    GT = ">", "greater than"
    GE = ">=", "at least"
    LT = "<", "less than"
    LE = "<=", "at most"


class Severity(models.TextChoices):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


class AlertRule(models.Model):
    name = models.CharField(max_length=100, unique=True)
    signal = models.CharField(max_length=32, choices=Signal.choices)
    comparison = models.CharField(max_length=2, choices=Comparison.choices, default=Comparison.GT)
    threshold = models.FloatField(default=0)
    for_seconds = models.PositiveIntegerField(
        default=0, help_text="How long the condition must hold before the alert fires."
    )
    window_seconds = models.PositiveIntegerField(
        default=300, help_text="Look-back window of ratio signals (failure ratio, P_n)."
    )
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.WARNING)
    message = models.CharField(
        max_length=500,
        help_text="Shown in notifications; {value}, {threshold} and label names such as {queue} are filled in.",
    )
    runbook_url = models.URLField(blank=True)
    enabled = models.BooleanField(default=True)
    #: Shipped by Lepton (monitoring.alerting.defaults): created when missing, so an
    #: operator's edits are kept across upgrades.
    shipped = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Alert(models.Model):
    class State(models.TextChoices):
        PENDING = "pending"
        FIRING = "firing"
        RESOLVED = "resolved"

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    labels = models.JSONField(default=dict)
    #: The labels as canonical JSON: the "label set" part of "one open alert per rule and label set".
    fingerprint = models.CharField(max_length=500)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    value = models.FloatField(null=True)
    summary = models.TextField(blank=True)
    started_at = models.DateTimeField()
    fired_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    last_evaluated_at = models.DateTimeField()

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "fingerprint"], condition=Q(resolved_at__isnull=True), name="alert_one_open_per_labels"
            ),
        ]
        indexes = [
            # The evaluator and the panels read the open alerts only.
            models.Index(fields=["rule"], condition=Q(resolved_at__isnull=True), name="alert_open"),
            # Retention and "recently resolved".
            models.Index(fields=["resolved_at"], name="alert_resolved_at"),
        ]

    def __str__(self):
        return f"{self.rule.name} {self.fingerprint} ({self.state})"


class Silence(models.Model):
    """Suppresses notifications of a rule's alerts (all, or those whose labels include
    `labels`) until `ends_at`. Alerts still change state and show on the health page."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="silences")
    labels = models.JSONField(default=dict, blank=True, help_text='e.g. {"queue": "io"}; empty matches all.')
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    comment = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-ends_at"]

    def __str__(self):
        return f"silence of {self.rule} until {self.ends_at:%Y-%m-%d %H:%M}"

    def matches(self, labels, now):
        if not self.starts_at <= now < self.ends_at:
            return False
        return all(labels.get(key) == value for key, value in self.labels.items())


class NotificationChannel(models.Model):
    class Kind(models.TextChoices):
        EMAIL = "email"
        WEBHOOK = "webhook"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    target = models.CharField(max_length=1000, help_text="Email addresses (comma-separated) or the webhook URL.")
    secret = models.CharField(
        max_length=200, blank=True, help_text="Webhook: the HMAC-SHA256 key of X-Lepton-Signature."
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Notification(models.Model):
    """One message about one alert event to one destination; its attempts are DeliveryAttempts."""

    class Event(models.TextChoices):
        FIRING = "firing"
        RESOLVED = "resolved"
        TEST = "test"

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"

    alert = models.ForeignKey(Alert, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    channel = models.ForeignKey(
        NotificationChannel, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    kind = models.CharField(max_length=16, choices=NotificationChannel.Kind.choices)
    #: Copied from the channel (or LEPTON_ALERT_EMAILS) so the record outlives an edit.
    target = models.CharField(max_length=1000)
    event = models.CharField(max_length=16, choices=Event.choices)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.event} to {self.target} ({self.status})"


class DeliveryAttempt(models.Model):
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="delivery_attempts")
    number = models.PositiveIntegerField()
    ok = models.BooleanField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_seconds = models.FloatField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["notification", "number"]
        constraints = [
            models.UniqueConstraint(fields=["notification", "number"], name="delivery_attempt_unique_number"),
        ]

    def __str__(self):
        return f"attempt {self.number} of {self.notification_id}: {'ok' if self.ok else self.error[:60]}"

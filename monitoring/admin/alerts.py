"""Admin for alerting: rules and channels are edited here, silences are created by
operators (monitoring.add_silence), alerts, notifications and canary runs are records."""

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.utils import timezone

from monitoring.alerting import notify
from monitoring.models import Alert, AlertRule, CanaryRun, DeliveryAttempt, Notification, NotificationChannel, Silence


class RecordAdmin(admin.ModelAdmin):
    """Rows the platform writes: read-only, never added or edited by hand."""

    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "enabled", "signal", "comparison", "threshold", "for_seconds", "severity", "shipped"]
    list_filter = ["enabled", "severity", "signal"]
    list_editable = ["enabled"]
    search_fields = ["name"]


@admin.register(Alert)
class AlertAdmin(RecordAdmin):
    list_display = ["rule", "state", "labels", "value", "summary", "started_at", "fired_at", "resolved_at"]
    list_filter = ["state", "rule__severity", "rule"]
    list_select_related = ["rule"]
    date_hierarchy = "started_at"


class SilenceForm(forms.ModelForm):
    class Meta:
        model = Silence
        fields = ["rule", "labels", "starts_at", "ends_at", "comment"]

    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", "Must be after the start.")
        labels = cleaned.get("labels")
        if labels is not None and not (
            isinstance(labels, dict) and all(isinstance(v, str) for v in labels.values())
        ):
            self.add_error("labels", 'Must be an object of label names to values, e.g. {"queue": "io"}.')
        return cleaned


@admin.register(Silence)
class SilenceAdmin(admin.ModelAdmin):
    form = SilenceForm
    list_display = ["rule", "labels", "starts_at", "ends_at", "comment", "created_by"]
    list_select_related = ["rule", "created_by"]
    list_filter = ["rule"]

    def get_changeform_initial_data(self, request):
        return {"starts_at": timezone.now(), **super().get_changeform_initial_data(request)}

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class ChannelForm(forms.ModelForm):
    class Meta:
        model = NotificationChannel
        fields = ["name", "kind", "target", "secret", "enabled"]
        widgets = {"secret": forms.PasswordInput(render_value=True)}

    def clean(self):
        cleaned = super().clean()
        kind, target = cleaned.get("kind"), cleaned.get("target", "")
        if kind == NotificationChannel.Kind.WEBHOOK:
            if not target.startswith(("http://", "https://")):
                self.add_error("target", "A webhook needs an http:// or https:// URL.")
        elif kind == NotificationChannel.Kind.EMAIL:
            addresses = [a.strip() for a in target.split(",") if a.strip()]
            if not addresses:
                self.add_error("target", "Give at least one email address.")
            for address in addresses:
                try:
                    forms.EmailField().clean(address)
                except forms.ValidationError:
                    self.add_error("target", f"{address!r} is not an email address.")
        return cleaned


@admin.register(NotificationChannel)
class NotificationChannelAdmin(admin.ModelAdmin):
    form = ChannelForm
    list_display = ["name", "kind", "target", "enabled"]
    list_filter = ["kind", "enabled"]
    actions = ["send_test"]

    @admin.action(description="Send a test notification", permissions=["change"])
    def send_test(self, request, queryset):
        with transaction.atomic():
            for channel in queryset:
                notify.queue_test(channel)
                self.log_change(request, channel, "Sent a test notification.")
        self.message_user(
            request, f"Sent a test notification to {queryset.count()} channel(s); see Notifications for the outcome.",
            messages.SUCCESS,
        )


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ["number", "ok", "status_code", "error", "duration_seconds", "at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(RecordAdmin):
    list_display = ["created_at", "event", "kind", "target", "status", "attempts", "alert"]
    list_filter = ["status", "event", "kind"]
    list_select_related = ["alert__rule"]
    raw_id_fields = ["alert"]
    inlines = [DeliveryAttemptInline]


@admin.register(CanaryRun)
class CanaryRunAdmin(RecordAdmin):
    list_display = ["submitted_at", "queue", "outcome", "latency_seconds", "job", "error"]
    list_filter = ["outcome", "queue"]
    raw_id_fields = ["job"]

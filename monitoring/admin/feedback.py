"""Feedback triage for operators: filter, search, acknowledge or resolve, reply to the user."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from jobs import registry
from monitoring.models import Feedback


class JobTypeFilter(admin.SimpleListFilter):
    title = "job type"
    parameter_name = "job_type"

    def lookups(self, request, model_admin):
        return [(job_type.name, job_type.name) for job_type in registry.all_types()]

    def queryset(self, request, queryset):
        return queryset.filter(job__type=self.value()) if self.value() else queryset


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    # Few, narrow columns: the list must fit beside admin's sidebar and filters at 1280 px.
    list_display = ["summary", "rating", "category", "status", "user", "job_link", "created_at"]
    list_display_links = ["summary"]
    list_filter = ["status", "category", "rating", JobTypeFilter]
    search_fields = ["message", "reply", "user__username", "=job__id"]
    list_select_related = ["user", "job"]
    readonly_fields = ["user", "job_link", "rating", "category", "message", "created_at", "replied_at"]
    fields = ["user", "job_link", "rating", "category", "message", "created_at", "status", "reply", "replied_at"]
    actions = ["mark_acknowledged", "mark_resolved"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False  # users leave feedback on /feedback/; operators triage it

    @admin.display(description="job")
    def job_link(self, feedback):
        if feedback.job_id is None:
            return "—"
        url = reverse("admin:jobs_job_change", args=[feedback.job_id])
        return format_html('<a href="{}">job {} ({})</a>', url, feedback.job_id, feedback.job.type)

    @admin.display(description="message")
    def summary(self, feedback):
        return feedback.message if len(feedback.message) <= 60 else feedback.message[:59] + "…"

    def save_model(self, request, feedback, form, change):
        if "reply" in form.changed_data:
            feedback.replied_at = timezone.now() if feedback.reply else None
        super().save_model(request, feedback, form, change)

    @admin.action(description="Mark selected feedback acknowledged", permissions=["change"])
    def mark_acknowledged(self, request, queryset):
        self._set_status(request, queryset, Feedback.Status.ACKNOWLEDGED)

    @admin.action(description="Mark selected feedback resolved", permissions=["change"])
    def mark_resolved(self, request, queryset):
        self._set_status(request, queryset, Feedback.Status.RESOLVED)

    def _set_status(self, request, queryset, status):
        changed = queryset.exclude(status=status).update(status=status)
        self.message_user(request, f"Marked {changed} feedback item(s) {status}.", messages.SUCCESS)

from django.contrib import admin, messages

from jobs import quarantine
from jobs.control import cancel_job, retry_job
from jobs.models import Job, RecoveryEvent, Subtask, Worker
from jobs import admin_users  # noqa: F401  (the user admin with "Send invitation")


class RecordAdmin(admin.ModelAdmin):
    """Rows the platform writes: operators read them and act through admin actions only."""

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Job)
class JobAdmin(RecordAdmin):
    list_display = ["id", "type", "owner", "status", "priority", "queue", "total", "done", "failed", "created_at", "finished_at"]
    list_filter = ["status", "type", "priority", "queue"]
    search_fields = ["=id", "owner__username", "idempotency_key"]
    list_select_related = ["owner"]
    actions = ["cancel_selected", "retry_selected"]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "params"]

    @admin.action(description="Cancel selected active jobs")
    def cancel_selected(self, request, queryset):
        canceled = sum(cancel_job(pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"Canceled {canceled} job(s).", messages.SUCCESS)

    @admin.action(description="Retry selected failed jobs")
    def retry_selected(self, request, queryset):
        retried = sum(retry_job(pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"Retrying {retried} failed job(s).", messages.SUCCESS)


@admin.register(Subtask)
class SubtaskAdmin(RecordAdmin):
    list_display = ["id", "job", "index", "status", "attempt", "tries", "worker", "started_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["=job__id", "worker"]
    raw_id_fields = ["job"]


@admin.register(RecoveryEvent)
class RecoveryEventAdmin(RecordAdmin):
    list_display = ["created_at", "kind", "job", "subtask_index", "attempt", "worker", "detail"]
    list_filter = ["kind"]
    search_fields = ["=job__id", "worker"]
    raw_id_fields = ["job"]


@admin.register(Worker)
class WorkerAdmin(RecordAdmin):
    list_display = ["hostname", "queues", "consuming", "concurrency", "last_seen_at", "quarantined_until", "quarantine_reason"]
    search_fields = ["hostname"]
    actions = ["release_selected"]

    @admin.action(description="Release selected workers from quarantine")
    def release_selected(self, request, queryset):
        released = sum(quarantine.release(pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(
            request, f"Released {released} worker(s); they rejoin their queues within seconds.", messages.SUCCESS
        )

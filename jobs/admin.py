from django.contrib import admin, messages

from jobs.control import cancel_job, retry_job
from jobs import quarantine
from jobs.models import Job, RecoveryEvent, Subtask, Worker


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "type", "owner", "status", "priority", "queue", "total", "done", "failed", "created_at", "finished_at"]
    list_filter = ["status", "type", "priority", "queue"]
    search_fields = ["=id", "owner__username", "idempotency_key"]
    readonly_fields = [field.name for field in Job._meta.fields]
    list_select_related = ["owner"]
    actions = ["cancel_selected", "retry_selected"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Cancel selected active jobs")
    def cancel_selected(self, request, queryset):
        canceled = sum(cancel_job(pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"Canceled {canceled} job(s).", messages.SUCCESS)

    @admin.action(description="Retry selected failed jobs")
    def retry_selected(self, request, queryset):
        retried = sum(retry_job(pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"Retrying {retried} failed job(s).", messages.SUCCESS)


@admin.register(Subtask)
class SubtaskAdmin(admin.ModelAdmin):
    list_display = ["id", "job", "index", "status", "attempt", "worker", "started_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["=job__id", "worker"]
    readonly_fields = [field.name for field in Subtask._meta.fields]
    raw_id_fields = ["job"]

    def has_add_permission(self, request):
        return False


@admin.register(RecoveryEvent)
class RecoveryEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "job", "subtask_index", "attempt", "worker", "detail"]
    list_filter = ["kind"]
    search_fields = ["=job__id", "worker"]
    readonly_fields = [field.name for field in RecoveryEvent._meta.fields]
    raw_id_fields = ["job"]

    def has_add_permission(self, request):
        return False


@admin.register(Worker)
class WorkerAdmin(admin.ModelAdmin):
    list_display = ["hostname", "queues", "consuming", "concurrency", "last_seen_at", "quarantined_until", "quarantine_reason"]
    readonly_fields = [field.name for field in Worker._meta.fields]
    search_fields = ["hostname"]
    actions = ["release_selected"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Release selected workers from quarantine")
    def release_selected(self, request, queryset):
        released = sum(quarantine.release(pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"Released {released} worker(s); they rejoin their queues within seconds.", messages.SUCCESS)

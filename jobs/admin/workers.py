"""Workers in admin: their last report, and releasing one from quarantine."""

from django.contrib import admin, messages

from jobs import quarantine
from jobs.admin.records import RecordAdmin
from jobs.models import Worker


@admin.register(Worker)
class WorkerAdmin(RecordAdmin):
    list_display = ["hostname", "queues", "consuming", "concurrency", "last_seen_at", "quarantined_until", "quarantine_reason"]
    search_fields = ["hostname"]
    actions = ["release_selected"]
    readonly_fields = fields = [
        "hostname", "queues", "consuming", "concurrency", "pid", "started_at", "last_seen_at",
        "quarantined_until", "quarantine_reason",
    ]

    def has_release_permission(self, request, obj=None):
        return request.user.has_perm("jobs.release_worker")

    @admin.action(description="Release selected workers from quarantine", permissions=["release"])
    def release_selected(self, request, queryset):
        released = 0
        for worker in queryset.only("id", "hostname"):
            if quarantine.release(worker.pk):
                self.log_change(request, worker, "Released from quarantine")
                released += 1
        self.message_user(
            request, f"Released {released} worker(s); they rejoin their queues within seconds.", messages.SUCCESS
        )

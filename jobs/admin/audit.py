"""The audit log: who did what, when, to which object, read from Django admin's LogEntry.

Every operator action (cancel, retry, release, delete) writes one through
ModelAdmin.log_change / log_deletions. Nobody can add, edit or delete an entry here.
"""

from django.contrib import admin
from django.contrib.admin.models import DELETION, LogEntry
from django.utils.html import format_html

from jobs.admin.records import RecordAdmin


@admin.register(LogEntry)
class AuditLogAdmin(RecordAdmin):
    list_display = ["action_time", "user", "action", "content_type", "object_link", "message"]
    list_filter = ["action_flag", "content_type"]
    search_fields = ["=user__username", "=object_id"]
    list_select_related = ["user", "content_type"]
    readonly_fields = fields = ["action_time", "user", "action", "content_type", "object_link", "message"]

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": "Audit log", **(extra_context or {})})

    @admin.display(description="action", ordering="action_flag")
    def action(self, entry):
        return entry.get_action_flag_display()

    @admin.display(description="object")
    def object_link(self, entry):
        # get_admin_url() is None for deleted objects: then the name it had.
        url = entry.get_admin_url() if entry.action_flag != DELETION else None
        if not url:
            return entry.object_repr
        return format_html('<a href="{}">{}</a>', url, entry.object_repr)

    @admin.display(description="what")
    def message(self, entry):
        return entry.get_change_message()

"""The health page at /admin/monitoring/health/: the panels of monitoring.panels.PANELS.

It is the changelist of the table-less Health model, so it sits in the admin index
under Monitoring and gets admin's login, staff check and chrome for free.
"""

from importlib import import_module

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils import timezone

from monitoring import panels
from monitoring.models import Health

PERMISSION = "monitoring.view_health"


@admin.register(Health)
class HealthAdmin(admin.ModelAdmin):
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(PERMISSION)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        now = timezone.now()
        context = {
            **self.admin_site.each_context(request),
            "title": "Platform health",
            "opts": self.model._meta,
            "now": now,
            "flower_url": settings.LEPTON_FLOWER_URL,
            "panels": [_render_panel(name, now) for name in panels.PANELS],
        }
        return TemplateResponse(request, "monitoring/health.html", context)


def _render_panel(name, now):
    module = import_module(f"monitoring.panels.{name}")
    return {"name": name, "title": module.TITLE, "template": module.TEMPLATE, "context": module.context(now)}

from django.db import models


class Health(models.Model):
    """No table: gives the health page its admin address (/admin/monitoring/health/) and
    its entry on the admin index. Access is `monitoring.view_health` (declared on
    Snapshot), so this model has no permissions of its own."""

    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = "health"
        verbose_name_plural = "health"

    def __str__(self):
        return "health"

"""The roles: Django groups `viewer`, `operator` and `admin`, created idempotently after
every migrate (permissions do not exist yet inside a fresh migrate's data migrations).

Permissions are only ever added, so what an administrator grants a group by hand stays.
A member also needs `is_staff` to open the admin.
"""

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

LEPTON_APPS = ("jobs", "monitoring")

OPERATOR_ACTIONS = [
    ("jobs", "cancel_job"),
    ("jobs", "retry_job"),
    ("jobs", "release_worker"),
    ("monitoring", "add_silence"),
    ("monitoring", "change_silence"),
    ("monitoring", "delete_silence"),
]


def _permissions(pairs):
    wanted = Q(pk__in=[])
    for app, codename in pairs:
        wanted |= Q(content_type__app_label=app, codename=codename)
    return Permission.objects.filter(wanted)


def viewer_permissions():
    return Permission.objects.filter(
        Q(content_type__app_label__in=LEPTON_APPS, codename__startswith="view_")
    )


def ensure_roles():
    """Create the groups if missing and add their permissions; returns the groups by name."""
    viewer = list(viewer_permissions())
    operator = viewer + list(_permissions(OPERATOR_ACTIONS))
    admin = list(Permission.objects.filter(content_type__app_label__in=LEPTON_APPS))
    groups = {}
    for name, permissions in (("viewer", viewer), ("operator", operator), ("admin", admin)):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*permissions)
        groups[name] = group
    return groups

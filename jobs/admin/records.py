"""What every admin over the platform's own rows shares: read-only, cheap to list."""

import json

from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.functional import cached_property
from django.utils.html import format_html

#: Characters of a JSON value shown on a change page; the rest is a download away. A
#: `stats` job's params can be tens of megabytes: rendering them whole made an 83 MB page.
JSON_PREVIEW_CHARS = 10_000


class CappedCountPaginator(Paginator):
    """Counts at most CAP + 1 rows, so a changelist over 100,000 subtasks never scans them all.

    `SELECT COUNT(*) FROM (... LIMIT CAP + 1)` stops early; the pagination template says
    "more than CAP" instead of a number when the cap is reached, and filters narrow it.
    """

    CAP = 10_000

    @cached_property
    def count(self):
        return self.object_list[: self.CAP + 1].count()

    @property
    def capped(self):
        return self.count > self.CAP


class RecordAdmin(admin.ModelAdmin):
    """Rows the platform writes: operators read them and act through admin actions only.

    No change permission for anyone, so the change page is a view page with no Save and
    no Delete; subclasses grant deletion where it is safe.
    """

    show_full_result_count = False
    paginator = CappedCountPaginator

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def json_preview(value, limit=JSON_PREVIEW_CHARS):
    """`value` as indented JSON in a <pre>, cut at `limit` characters with a note saying so.

    The compact form is measured first (the C encoder, fast even for megabytes); only
    values that fit are indented.
    """
    compact = json.dumps(value, ensure_ascii=False)
    if len(compact) > limit:
        text = f"{compact[:limit]}\n… truncated: {len(compact):,} characters in all"
    else:
        text = json.dumps(value, indent=2, ensure_ascii=False)
    return format_html('<pre class="lepton-json">{}</pre>', text)

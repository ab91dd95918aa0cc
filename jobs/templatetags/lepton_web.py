"""Small formatting helpers for the web pages."""

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def duration(job):
    """How long the job ran (or has been running): '850 ms', '12.3 s', '4 min 2 s', '2 h 5 min'."""
    if job.started_at is None:
        return ""
    seconds = ((job.finished_at or timezone.now()) - job.started_at).total_seconds()
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60)} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"


@register.filter
def percent_done(job):
    """Finished subtasks (succeeded or failed) as a whole percentage of all of them."""
    if not job.total:
        return 100 if job.is_final else 0
    return (job.done + job.failed) * 100 // job.total


@register.filter
def figure(value):
    """Integers with thousands separators, floats to six significant digits."""
    if isinstance(value, bool) or value is None:
        return "—" if value is None else value
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.6g}"
    return value


@register.filter
def subtask_time(subtask):
    if subtask.started_at is None or subtask.finished_at is None:
        return ""
    return f"{(subtask.finished_at - subtask.started_at).total_seconds():.2f} s"

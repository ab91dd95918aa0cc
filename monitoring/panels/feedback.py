"""Health-page panel: what users say. Counts by status, the daily average rating, the latest items."""

from datetime import timedelta

from django.db.models import Avg, Count
from django.db.models.functions import TruncDate

from monitoring.models import Feedback

TITLE = "User feedback"
TEMPLATE = "monitoring/panels/feedback.html"
#: Days of average rating on the chart.
DAYS = 14
LATEST = 5
#: Chart geometry (SVG user units): one bar per day.
BAR_WIDTH, BAR_GAP, CHART_HEIGHT = 16, 4, 60


def context(now):
    counts = dict(Feedback.objects.order_by().values_list("status").annotate(n=Count("id")))
    since = (now - timedelta(days=DAYS - 1)).date()
    by_day = dict(
        Feedback.objects.filter(created_at__date__gte=since)
        .annotate(day=TruncDate("created_at"))
        .order_by()
        .values("day")
        .annotate(avg=Avg("rating"))
        .values_list("day", "avg")
    )
    days = [since + timedelta(days=i) for i in range(DAYS)]
    return {
        "counts": [(status.label, counts.get(status.value, 0)) for status in Feedback.Status],
        "days": _bars(days, by_day),
        "first_day": days[0],
        "last_day": days[-1],
        "chart_width": DAYS * (BAR_WIDTH + BAR_GAP),
        "chart_height": CHART_HEIGHT,
        "latest": list(Feedback.objects.select_related("user", "job")[:LATEST]),
    }


def _bars(days, averages):
    """One bar per day, its height in proportion to the average rating out of 5 (None: no feedback)."""
    bars = []
    for position, day in enumerate(days):
        average = averages.get(day)
        height = round(average / 5 * CHART_HEIGHT) if average is not None else 0
        bars.append({
            "day": day, "average": average, "x": position * (BAR_WIDTH + BAR_GAP),
            "y": CHART_HEIGHT - height, "height": height, "width": BAR_WIDTH,
        })
    return bars

"""The health page's feedback panel (monitoring/panels/feedback.py)."""

from datetime import timedelta

from django.template.loader import render_to_string
from django.utils import timezone

from monitoring.models import Feedback
from monitoring.panels import feedback as panel


def test_it_counts_by_status_averages_ratings_per_day_and_lists_the_latest(owner):
    now = timezone.now()
    for rating, status in [(5, "new"), (3, "new"), (1, "resolved")]:
        Feedback.objects.create(user=owner, rating=rating, category="other", message=f"r{rating}", status=status)
    old = Feedback.objects.create(user=owner, rating=2, category="bug", message="old")
    Feedback.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=1))

    context = panel.context(now)

    assert context["counts"] == [("New", 3), ("Acknowledged", 0), ("Resolved", 1)]
    today, yesterday = context["days"][-1], context["days"][-2]
    assert today["average"] == 3 and today["height"] == round(3 / 5 * panel.CHART_HEIGHT)
    assert yesterday["average"] == 2
    assert context["days"][0]["average"] is None and len(context["days"]) == panel.DAYS
    assert [item.message for item in context["latest"]] == ["r1", "r3", "r5", "old"]


def test_its_template_renders_an_svg_chart_and_escapes_messages(owner):
    Feedback.objects.create(user=owner, rating=4, category="idea", message="<b>bold</b>")

    html = render_to_string(panel.TEMPLATE, panel.context(timezone.now()))

    assert "<svg" in html and "<rect" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold</b>" not in html

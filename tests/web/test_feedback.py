"""/feedback/: leave feedback, see your own with its status and the operators' reply."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from monitoring.models import Feedback

VALID = {"rating": "4", "category": "idea", "message": "A dark mode, please."}


def test_it_saves_general_feedback_and_lists_it_as_new(web, owner):
    response = web.post("/feedback/", VALID)

    feedback = Feedback.objects.get()
    assert response.status_code == 302 and response["Location"] == "/feedback/"
    assert (feedback.user, feedback.job, feedback.rating, feedback.category, feedback.status) == (owner, None, 4, "idea", "new")
    html = web.get("/feedback/").content.decode()
    assert "A dark mode, please." in html and "status-new" in html


def test_from_a_job_page_the_job_is_attached(web, wordcount_job):
    box = web.get(f"/feedback/?job={wordcount_job.pk}&box=1", HTTP_HX_REQUEST="true").content.decode()
    response = web.post("/feedback/", {**VALID, "job": wordcount_job.pk})

    assert box.lstrip().startswith("<form") and f'name="job" value="{wordcount_job.pk}"' in box
    assert Feedback.objects.get().job == wordcount_job
    assert response["Location"] == f"/jobs/{wordcount_job.pk}/"


def test_another_user_s_job_cannot_be_attached(stranger_web, wordcount_job):
    assert stranger_web.get(f"/feedback/?job={wordcount_job.pk}").status_code == 404
    assert stranger_web.post("/feedback/", {**VALID, "job": wordcount_job.pk}).status_code == 404
    assert not Feedback.objects.exists()


@pytest.mark.parametrize(
    "field, value, error",
    [("rating", "6", "Select a valid choice."), ("category", "rant", "Select a valid choice."), ("message", "", "This field is required.")],
)
def test_invalid_feedback_shows_the_error_at_its_field(web, field, value, error):
    response = web.post("/feedback/", {**VALID, field: value})

    html = response.content.decode()
    assert response.status_code == 400
    assert error in html[html.index(f'id="id_{field}_errors"'):]
    assert not Feedback.objects.exists()


def test_a_user_sees_only_their_own_feedback_and_the_reply(web, owner, stranger):
    Feedback.objects.create(user=owner, rating=2, category="bug", message="mine", status="resolved",
                            reply="Fixed in <b>1.2</b>", replied_at=timezone.now())
    Feedback.objects.create(user=stranger, rating=5, category="idea", message="theirs")

    html = web.get("/feedback/").content.decode()

    assert "mine" in html and "theirs" not in html
    assert "Fixed in &lt;b&gt;1.2&lt;/b&gt;" in html and "Resolved" in html


def test_messages_are_shown_escaped(web):
    web.post("/feedback/", {**VALID, "message": "<img src=x onerror=alert(1)>"})

    html = web.get("/feedback/").content.decode()

    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_csrf_is_enforced(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)

    assert client.post("/feedback/", VALID).status_code == 403
    assert not Feedback.objects.exists()


@pytest.fixture
def operator(db):
    user = get_user_model().objects.create_superuser("operator", password="operator-password-123")
    client = Client()
    client.force_login(user)
    return client


def test_operators_filter_and_resolve_feedback_in_admin_with_a_reply(operator, web, owner, wordcount_job):
    item = Feedback.objects.create(user=owner, job=wordcount_job, rating=3, category="bug", message="slow")

    listing = operator.get("/admin/monitoring/feedback/?status__exact=new&job_type=wordcount").content.decode()
    saved = operator.post(
        f"/admin/monitoring/feedback/{item.pk}/change/", {"status": "resolved", "reply": "Thanks, fixed."}
    )

    assert "slow" in listing and f'href="/admin/jobs/job/{wordcount_job.pk}/change/"' in listing
    assert saved.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.reply) == ("resolved", "Thanks, fixed.") and item.replied_at is not None
    assert "Thanks, fixed." in web.get("/feedback/").content.decode()


def test_the_bulk_action_acknowledges_selected_feedback(operator, owner):
    items = [Feedback.objects.create(user=owner, rating=1, category="bug", message=str(n)) for n in range(3)]

    operator.post(
        "/admin/monitoring/feedback/",
        {"action": "mark_acknowledged", "_selected_action": [items[0].pk, items[1].pk]},
    )

    assert sorted(Feedback.objects.values_list("status", flat=True)) == ["acknowledged", "acknowledged", "new"]


def test_a_view_only_staff_member_cannot_run_the_bulk_actions(owner, db):
    from django.contrib.auth.models import Permission

    viewer = get_user_model().objects.create_user("viewer", password="viewer-password-123", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_feedback"))
    item = Feedback.objects.create(user=owner, rating=1, category="bug", message="x")
    client = Client()
    client.force_login(viewer)

    client.post("/admin/monitoring/feedback/", {"action": "mark_resolved", "_selected_action": [item.pk]})

    assert Feedback.objects.get(pk=item.pk).status == "new"

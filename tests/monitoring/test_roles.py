"""Roles: the viewer, operator and admin groups and what each may do in admin."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from jobs.models import Job
from jobs.submit import submit_job
from monitoring.models import AlertRule, Silence
from monitoring.roles import ensure_roles

pytestmark = pytest.mark.django_db


def member(role, client):
    user = get_user_model().objects.create_user(f"{role}-user", password="a-long-password-1", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return user


def codenames(role):
    return set(Group.objects.get(name=role).permissions.values_list("content_type__app_label", "codename"))


def test_the_groups_exist_after_migrate_and_creating_them_again_changes_nothing():
    before = {role: codenames(role) for role in ("viewer", "operator", "admin")}
    ensure_roles()
    assert {role: codenames(role) for role in ("viewer", "operator", "admin")} == before
    assert Group.objects.filter(name__in=["viewer", "operator", "admin"]).count() == 3


def test_a_viewer_may_only_view():
    viewer = codenames("viewer")
    assert ("jobs", "view_job") in viewer and ("monitoring", "view_alert") in viewer
    assert all(codename.startswith("view_") for _, codename in viewer)


def test_an_operator_may_also_cancel_retry_release_and_silence():
    operator = codenames("operator")
    assert codenames("viewer") < operator
    assert {("jobs", "cancel_job"), ("jobs", "retry_job"), ("jobs", "release_worker"), ("monitoring", "add_silence")} <= operator
    assert ("monitoring", "change_alertrule") not in operator


def test_an_admin_has_every_lepton_permission():
    admin = codenames("admin")
    assert {("jobs", "submit_restricted_job"), ("monitoring", "change_alertrule"), ("monitoring", "change_notificationchannel")} <= admin


def test_permissions_granted_by_hand_are_kept(django_user_model):
    extra = django_user_model._meta.app_label
    viewer = Group.objects.get(name="viewer")
    viewer.permissions.add(Permission.objects.get(content_type__app_label=extra, codename="view_user"))
    ensure_roles()
    assert (extra, "view_user") in codenames("viewer")


def test_a_viewer_cannot_cancel_a_job_in_admin(client, owner):
    member("viewer", client)
    job, _ = submit_job(owner, "diagnostic", {"subtasks": 2})

    assert client.get("/admin/jobs/job/").status_code == 200
    response = client.post("/admin/jobs/job/", {"action": "cancel_selected", "_selected_action": [job.pk]})

    assert Job.objects.get(pk=job.pk).status == "queued"
    assert response.status_code in (200, 302)


def test_an_operator_can_cancel_a_job_in_admin(client, owner):
    member("operator", client)
    job, _ = submit_job(owner, "diagnostic", {"subtasks": 2})

    response = client.post("/admin/jobs/job/", {"action": "cancel_selected", "_selected_action": [job.pk]}, follow=True)

    assert b"Canceled 1 job(s)." in response.content
    assert Job.objects.get(pk=job.pk).status == "canceled"


def test_an_operator_can_create_a_silence_and_is_recorded_as_its_author(client):
    operator = member("operator", client)
    rule = AlertRule.objects.get(name="Backlog: oldest waiting subtask")
    now = timezone.now()

    response = client.post("/admin/monitoring/silence/add/", {
        "rule": rule.pk, "labels": '{"queue": "io"}', "comment": "io maintenance",
        "starts_at_0": now.strftime("%Y-%m-%d"), "starts_at_1": now.strftime("%H:%M:%S"),
        "ends_at_0": (now + timedelta(days=1)).strftime("%Y-%m-%d"), "ends_at_1": now.strftime("%H:%M:%S"),
    })

    assert response.status_code == 302, response.content.decode()[:2000]
    silence = Silence.objects.get()
    assert (silence.created_by, silence.labels) == (operator, {"queue": "io"})


def test_a_viewer_cannot_create_a_silence_or_edit_a_rule(client):
    member("viewer", client)
    assert client.get("/admin/monitoring/silence/add/").status_code == 403
    rule = AlertRule.objects.first()
    client.post(f"/admin/monitoring/alertrule/{rule.pk}/change/", {"name": "renamed"})
    assert AlertRule.objects.get(pk=rule.pk).name == rule.name


def test_a_user_who_is_not_staff_gets_no_admin_page(client, owner):
    owner.groups.add(Group.objects.get(name="operator"))
    client.force_login(owner)
    for page in ("/admin/", "/admin/monitoring/alert/", "/admin/jobs/job/"):
        response = client.get(page)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")

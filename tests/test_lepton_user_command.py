"""`manage.py lepton_user NAME`: create or update a user, print a new API token once."""

import hashlib
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient

from jobs.models import ApiToken

User = get_user_model()


@pytest.fixture
def lepton_user(db):
    """Run the command; returns what it printed on stdout (the token), stripped."""

    def lepton_user(*args):
        stdout = StringIO()
        call_command("lepton_user", *args, stdout=stdout, stderr=StringIO())
        return stdout.getvalue().strip()

    return lepton_user


def test_it_prints_a_token_that_authenticates_the_new_user(lepton_user):
    token = lepton_user("alice")

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get("/api/jobs/")
    submitted = client.post("/api/jobs/", {"type": "diagnostic", "params": {"subtasks": 1}}, format="json")

    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert submitted.status_code == 201
    assert User.objects.get(username="alice").jobs.get().pk == submitted.json()["id"]


def test_running_it_again_prints_no_token_and_the_first_keeps_working(lepton_user):
    first = lepton_user("alice")

    assert lepton_user("alice") == ""
    assert User.objects.filter(username="alice").count() == 1
    assert APIClient(HTTP_AUTHORIZATION=f"Token {first}").get("/api/jobs/").status_code == 200


def test_rotate_token_prints_a_new_token_and_the_old_one_stops_working(lepton_user):
    first = lepton_user("alice")

    second = lepton_user("alice", "--rotate-token")

    assert second and second != first
    assert APIClient(HTTP_AUTHORIZATION=f"Token {first}").get("/api/jobs/").status_code == 401
    assert APIClient(HTTP_AUTHORIZATION=f"Token {second}").get("/api/jobs/").status_code == 200


def test_the_token_is_not_stored_in_clear(lepton_user):
    token = lepton_user("alice")

    stored = ApiToken.objects.get(user__username="alice")
    assert token not in (stored.digest, stored.prefix)
    assert stored.digest == hashlib.sha256(token.encode()).hexdigest()


def test_invite_prints_a_one_time_link_that_sets_the_password(lepton_user, client):
    stderr = StringIO()
    call_command("lepton_user", "alice", "--invite", stdout=StringIO(), stderr=stderr)
    link = stderr.getvalue().strip().splitlines()[-1]
    path = link.removeprefix("http://127.0.0.1:8000")

    form_page = client.get(path, follow=True)
    set_password = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a long new password 42", "new_password2": "a long new password 42"},
    )
    again = client.get(path, follow=True)

    assert form_page.status_code == 200 and "new_password1" in form_page.content.decode()
    assert set_password.status_code == 302
    assert User.objects.get(username="alice").check_password("a long new password 42")
    assert "new_password1" not in again.content.decode()


def test_invite_mails_the_link_when_the_user_has_an_email(lepton_user, mailoutbox):
    lepton_user("alice", "--email", "alice@example.com", "--invite")

    assert [mail.to for mail in mailoutbox] == [["alice@example.com"]]
    assert "/accounts/reset/" in mailoutbox[0].body


def test_a_new_user_is_not_staff_by_default(lepton_user):
    lepton_user("alice")

    alice = User.objects.get(username="alice")
    assert (alice.is_staff, alice.is_superuser) == (False, False)


def test_staff_makes_the_user_staff_and_superuser(lepton_user):
    lepton_user("alice")
    lepton_user("alice", "--staff")

    alice = User.objects.get(username="alice")
    assert (alice.is_staff, alice.is_superuser) == (True, True)


def test_password_sets_a_usable_password(lepton_user):
    lepton_user("alice", "--password", "correct horse battery")

    alice = User.objects.get(username="alice")
    assert alice.has_usable_password()
    assert alice.check_password("correct horse battery")


def test_without_password_a_new_user_has_an_unusable_password(lepton_user):
    lepton_user("alice")

    assert not User.objects.get(username="alice").has_usable_password()


def test_running_it_again_without_password_keeps_the_existing_password(lepton_user):
    lepton_user("alice", "--password", "correct horse battery")
    lepton_user("alice")

    assert User.objects.get(username="alice").check_password("correct horse battery")

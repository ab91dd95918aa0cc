"""`manage.py lepton_user NAME`: create or update a user and print their API token."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient

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


def test_running_it_again_prints_the_same_token_and_keeps_one_user(lepton_user):
    first = lepton_user("alice")

    assert lepton_user("alice") == first
    assert User.objects.filter(username="alice").count() == 1


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

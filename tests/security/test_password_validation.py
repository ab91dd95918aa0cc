"""Issue 9.8: `lepton_user --password` applies AUTH_PASSWORD_VALIDATORS."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def lepton_user(*args):
    call_command("lepton_user", *args, stdout=StringIO(), stderr=StringIO())


def test_it_refuses_a_weak_password_listing_the_reasons_and_creates_nobody():
    with pytest.raises(CommandError) as refused:
        lepton_user("alice", "--password", "1234")

    message = str(refused.value)
    assert "too short" in message and "too common" in message and "entirely numeric" in message
    assert not get_user_model().objects.filter(username="alice").exists()


def test_it_refuses_a_password_like_the_user_name_and_keeps_the_old_one():
    lepton_user("margaretha", "--password", "correct horse battery")

    with pytest.raises(CommandError, match="too similar to the username"):
        lepton_user("margaretha", "--password", "margaretha1")

    assert get_user_model().objects.get(username="margaretha").check_password("correct horse battery")

"""Issue 9.8: repeated failed logins are locked out per user name and address.

The attack: 40 wrong passwords in a row at the admin login, then the right one.
"""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.test import RequestFactory

pytestmark = pytest.mark.django_db

PASSWORD = "the-right-password-42"


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    # Hashing cost is not under test; dozens of PBKDF2 rounds on a loaded machine are.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff(fast_hasher):
    return get_user_model().objects.create_user("staffer", password=PASSWORD, is_staff=True)


def admin_login(client, password, address="203.0.113.7"):
    return client.post(
        "/admin/login/?next=/admin/", {"username": "staffer", "password": password}, REMOTE_ADDR=address
    )


def test_forty_wrong_passwords_then_the_right_one_is_refused_until_the_cooloff(client, staff):
    statuses = [admin_login(client, f"wrong-{i}").status_code for i in range(40)]
    refused = admin_login(client, PASSWORD)

    assert statuses[: settings.LEPTON_LOGIN_FAILURE_LIMIT - 1] == [200] * (settings.LEPTON_LOGIN_FAILURE_LIMIT - 1)
    assert set(statuses[settings.LEPTON_LOGIN_FAILURE_LIMIT :]) == {429}
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) == int(settings.LEPTON_LOGIN_COOLOFF_MINUTES * 60)
    assert "_auth_user_id" not in client.session

    # The cool-off passes: the failures age beyond it.
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=settings.LEPTON_LOGIN_COOLOFF_MINUTES + 1)
    )
    accepted = admin_login(client, PASSWORD)

    assert accepted.status_code == 302 and accepted["Location"] == "/admin/"


def test_a_lockout_is_for_that_address_only(client, staff):
    for i in range(settings.LEPTON_LOGIN_FAILURE_LIMIT):
        admin_login(client, f"wrong-{i}", address="203.0.113.7")

    assert admin_login(client, PASSWORD, address="198.51.100.9").status_code == 302


def test_every_login_through_authenticate_with_a_request_is_counted(staff):
    """The site's /accounts/login/ (Django's LoginView) authenticates this way."""
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="203.0.113.7")
    for i in range(settings.LEPTON_LOGIN_FAILURE_LIMIT):
        assert authenticate(request, username="staffer", password=f"wrong-{i}") is None

    assert authenticate(request, username="staffer", password=PASSWORD) is None
    assert getattr(request, "axes_locked_out", False)


def test_the_client_address_header_is_ignored_unless_behind_the_proxy(client, staff, settings):
    for i in range(settings.LEPTON_LOGIN_FAILURE_LIMIT):
        admin_login(client, f"wrong-{i}", address="10.0.0.2")

    # A forged X-Real-IP does not make a new pair.
    forged = client.post(
        "/admin/login/", {"username": "staffer", "password": PASSWORD}, REMOTE_ADDR="10.0.0.2", HTTP_X_REAL_IP="1.2.3.4"
    )
    assert forged.status_code == 429

    settings.LEPTON_BEHIND_PROXY = True
    through_proxy = client.post(
        "/admin/login/", {"username": "staffer", "password": PASSWORD}, REMOTE_ADDR="10.0.0.2", HTTP_X_REAL_IP="1.2.3.4"
    )
    assert through_proxy.status_code == 302


def test_a_login_without_a_request_still_works(staff):
    assert authenticate(username="staffer", password=PASSWORD) == staff

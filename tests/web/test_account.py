"""/account/: the API token is shown once, when created or rotated."""

from django.test import Client
from rest_framework.test import APIClient

from jobs import tokens


def api_status(key):
    return APIClient(HTTP_AUTHORIZATION=f"Token {key}").get("/api/jobs/").status_code


def test_a_rotated_token_is_shown_once_and_replaces_the_old_one(web, owner):
    old = tokens.issue(owner)

    rotated = web.post("/account/token/").content.decode()
    new = rotated.split('<code class="key">')[1].split("<")[0]
    later = web.get("/account/").content.decode()

    assert "shown only this once" in rotated
    assert f'curl -H "Authorization: Token {new}"' in rotated
    assert api_status(new) == 200 and api_status(old) == 401
    assert new not in later and new[:8] in later


def test_the_page_offers_to_create_a_token_when_there_is_none(web):
    html = web.get("/account/").content.decode()

    assert "You have no API token yet." in html and "Create token</button>" in html


def test_rotating_needs_a_post_with_csrf(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)

    assert client.get("/account/token/").status_code == 405
    assert client.post("/account/token/").status_code == 403


def test_the_password_change_page_is_styled_and_works(web, owner):
    page = web.get("/accounts/password_change/").content.decode()
    response = web.post(
        "/accounts/password_change/",
        {"old_password": "owner-password-123", "new_password1": "another long secret 9", "new_password2": "another long secret 9"},
    )

    assert "Change your password" in page and 'href="/feedback/"' in page
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("another long secret 9")

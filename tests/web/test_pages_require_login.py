"""Every page needs a login; the site root leads to the jobs list."""

import pytest
from django.test import Client

PAGES = [
    "/jobs/", "/jobs/new/", "/jobs/new/wordcount/", "/jobs/{id}/", "/jobs/{id}/progress/",
    "/jobs/{id}/result.json", "/jobs/{id}/result.csv", "/account/", "/feedback/",
    "/accounts/password_change/",
]


@pytest.mark.parametrize("url", PAGES)
def test_it_sends_an_anonymous_visitor_to_the_login_page(make_job, url):
    path = url.format(id=make_job().pk)

    response = Client().get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_the_root_redirects_to_the_jobs_list(web):
    assert Client().get("/")["Location"] == "/jobs/"


def test_the_login_page_logs_a_user_in_with_django_s_login_view(owner):
    client = Client()

    page = client.get("/accounts/login/")
    response = client.post("/accounts/login/", {"username": "owner", "password": "owner-password-123"})

    assert page.status_code == 200
    assert 'for="id_username"' in page.content.decode()
    assert response.status_code == 302 and response["Location"] == "/jobs/"
    assert client.get("/jobs/").status_code == 200


def test_a_wrong_password_shows_an_error_on_the_login_page(owner):
    response = Client().post("/accounts/login/", {"username": "owner", "password": "nope"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_logout_is_a_post(web):
    assert web.get("/accounts/logout/").status_code == 405
    assert web.post("/accounts/logout/").status_code == 302
    assert web.get("/jobs/").status_code == 302


def test_every_page_has_the_same_navigation(web, wordcount_job):
    for path in ["/jobs/", "/jobs/new/", f"/jobs/{wordcount_job.pk}/", "/feedback/", "/account/"]:
        html = web.get(path).content.decode()
        assert 'href="/jobs/">Jobs</a>' in html, path
        assert 'href="/jobs/new/">New job</a>' in html, path
        assert 'href="/feedback/">Feedback</a>' in html, path
        assert "Admin</a>" not in html, path


def test_staff_see_health_and_admin_in_the_navigation(web, owner, settings):
    owner.is_staff = True
    owner.save()
    settings.LEPTON_FLOWER_URL = "http://127.0.0.1:5555/"

    html = web.get("/jobs/").content.decode()

    assert 'href="/admin/monitoring/health/">Health</a>' in html
    assert 'href="/admin/">Admin</a>' in html
    assert 'href="http://127.0.0.1:5555/">Flower</a>' in html


def test_pages_carry_no_inline_script_or_style(web, wordcount_job):
    for path in ["/jobs/", "/jobs/new/wordcount/", f"/jobs/{wordcount_job.pk}/", "/feedback/", "/account/"]:
        html = web.get(path).content.decode()
        assert "<script>" not in html and "style=" not in html and " onclick=" not in html, path

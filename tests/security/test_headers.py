"""Issue 9 "Also": security headers on the pages, a Content-Security-Policy on HTML."""

import pytest

pytestmark = pytest.mark.django_db


def test_html_pages_get_a_content_security_policy_with_no_inline_script(client):
    response = client.get("/admin/login/")

    policy = dict(
        directive.strip().split(" ", 1) for directive in response["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == "'self'"
    assert policy["default-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_the_other_security_headers_hold(client):
    response = client.get("/admin/login/")

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_admin_pages_use_no_inline_script_or_style(admin_client):
    """What the policy would block: a <script> without src, a style="..." attribute."""
    for url in ("/admin/", "/admin/jobs/job/", "/admin/admin/logentry/", "/admin/password_change/"):
        page = admin_client.get(url).content.decode()
        assert "<script>" not in page and "<script type=\"text/javascript\">" not in page, url
        assert ' style="' not in page, url

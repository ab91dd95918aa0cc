"""Django admin works in a real browser under Lepton's Content-Security-Policy: its
scripts run (the list's select-all box, the action bar) and the browser reports no
policy violation on the pages an operator uses.

Headless Debian chromium through Playwright; skipped where it is not installed.
"""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from jobs.submit import submit_job
from lepton.run import process_commands
from tests.security.servers import running

CHROMIUM = Path("/usr/bin/chromium")
#: The brief's ports for this area: 8140-8149.
PORT = 8148

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"needs Debian's chromium at {CHROMIUM}")


@pytest.fixture
def web(transactional_db, settings, tmp_path):
    settings.LEPTON_BIND, settings.LEPTON_PORT = "127.0.0.1", PORT
    with running("web", process_commands()["web"], tmp_path, port=PORT):
        yield f"http://127.0.0.1:{PORT}"


@pytest.fixture
def page(web, monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own database
    # calls are plain synchronous ones.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            context = browser.new_context(base_url=web, viewport={"width": 1280, "height": 800})
            context.set_default_timeout(30_000)
            yield context.new_page()
        finally:
            browser.close()


def test_admin_runs_its_scripts_with_no_policy_violation(page, owner):
    get_user_model().objects.create_superuser("root", password="root-password-for-csp-1")
    job, _ = submit_job(owner, "wordcount", {"texts": ["a b a"]})
    violations = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))

    page.goto("/admin/login/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "root-password-for-csp-1")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    page.goto("/admin/jobs/job/")
    page.check("#action-toggle")  # admin/js/actions.js selects every row and counts them
    counter = page.text_content(".action-counter")
    page.goto(f"/admin/jobs/job/{job.pk}/change/")
    page.goto("/admin/admin/logentry/")

    assert counter and counter.strip().startswith("1 of 1")
    assert violations == []

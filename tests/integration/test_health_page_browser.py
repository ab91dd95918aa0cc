"""The health page in a real browser (Debian's Chromium through Playwright), as staff,
with real workers running: workers, queues and a chart appear."""

import os
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from jobs.models import Worker
from jobs.singleflight import run_exclusively
from monitoring import history
from tests.integration.conftest import wait_for_job

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "health-page-pw-123"


@pytest.fixture
def screenshot_path(tmp_path):
    folder = os.environ.get("LEPTON_SCREENSHOT_DIR")
    return os.path.join(folder, "health-page.png") if folder else str(tmp_path / "health-page.png")


def wait_for_workers(hostnames, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if set(hostnames) <= set(Worker.objects.values_list("hostname", flat=True)):
            return
        time.sleep(0.2)
    pytest.fail(f"workers {hostnames} never reported")


def take_snapshot(now):
    """As beat's pass does, single-flight (beat may be taking one right now)."""
    run_exclusively("snapshot", lambda: history.take(now), 60)


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")
def test_staff_see_workers_queues_and_charts(platform, api, live_server, screenshot_path):
    from playwright.sync_api import sync_playwright

    get_user_model().objects.create_superuser("root", password=PASSWORD)
    wait_for_workers(["work@lepton-test", "control@lepton-test"])
    # History up to now, so the next snapshot covers the job's minutes alone.
    take_snapshot(timezone.now())
    job = wait_for_job(api.post("/api/jobs/", {"type": "diagnostic", "params": {"subtasks": 20}}, format="json").json()["id"])
    assert job.status == "succeeded"
    # Close the minute the job ran in now rather than wait for beat's next pass.
    take_snapshot(timezone.now() + timedelta(minutes=2))

    # No ORM below: Playwright's sync API runs an event loop in this thread.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{live_server.url}/admin/login/?next=/admin/monitoring/health/")
            page.fill("#id_username", "root")
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_selector("#panel-workers")

            workers = page.inner_text("#panel-workers table")
            queues = page.inner_text("#panel-queues table")
            marks = page.locator("#panel-charts svg.chart polyline, #panel-charts svg.chart circle").count()
            latency = page.inner_text("#panel-latency")
            page.screenshot(path=screenshot_path, full_page=True)
        finally:
            browser.close()

    assert "work@lepton-test" in workers and "control@lepton-test" in workers
    assert "online" in workers
    for queue in ("default", "cpu", "io", "control"):
        assert queue in queues
    assert marks >= 1
    assert "diagnostic" in latency

"""End to end in a real browser: a user submits, watches, downloads and gives feedback; an
operator answers it; staff cancel a long job. Screenshots of each main page on the way."""

import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from jobs.models import Job
from monitoring.models import Feedback
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PASSWORD = "a browser password 42"
User = get_user_model()


def test_a_user_submits_watches_downloads_and_gets_a_reply_to_feedback(new_page, screenshot):
    User.objects.create_user("alice", password=PASSWORD)
    User.objects.create_superuser("ops", password=PASSWORD)
    page = new_page()

    page.goto("/jobs/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/jobs/$"))
    screenshot(page, "login")
    log_in(page, "alice", PASSWORD)

    page.get_by_role("link", name="New job", exact=True).first.click()
    screenshot(page, "new-job")
    page.get_by_role("link", name="wordcount").click()
    # Enough subtasks that the job is still running when its page first shows.
    page.get_by_label("Texts").fill("\n".join(["the cat sat on the mat", "the dog sat"] * 150))
    page.get_by_label("Top").fill("0")
    page.get_by_label("Chunk size").fill("1")
    page.get_by_role("button", name="Submit job").click()

    expect(page.locator("#id_top_errors")).to_contain_text("Ensure this value is greater than or equal to 1.")
    screenshot(page, "job-form-error")
    assert not Job.objects.exists()

    page.get_by_label("Top").fill("3")
    page.get_by_role("button", name="Submit job").click()
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    progress_polls = []
    page.on("request", lambda request: progress_polls.append(request.url) if "/progress/" in request.url else None)

    expect(page.locator("#progress progress")).to_have_attribute("aria-valuenow", "100", timeout=120_000)
    expect(page.locator("#progress .status")).to_have_text("succeeded")
    words = page.locator("table.words tbody tr")
    expect(words.first).to_contain_text("the")
    expect(words.first).to_contain_text("450")
    expect(words).to_have_count(3)
    polls_at_the_end = len(progress_polls)
    page.wait_for_timeout(3000)
    assert len(progress_polls) == polls_at_the_end, "polling went on after the job ended"
    assert navigations == [], "the page reloaded"
    screenshot(page, "job-detail")

    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    rows = Path(download.value.path()).read_text().splitlines()
    assert rows[:2] == ["word,count", "the,450"] and len(rows) == 4

    page.get_by_role("radio", name="4", exact=True).check()
    page.get_by_label("Category").select_option("performance")
    page.get_by_label("Message").fill("Quick, but <b>the</b> form could remember my texts.")
    page.get_by_role("button", name="Send feedback").click()
    expect(page.get_by_role("status")).to_contain_text("Thank you")
    feedback = Feedback.objects.get()
    assert feedback.job_id == Job.objects.get().pk

    page.goto("/jobs/")
    screenshot(page, "job-list")
    page.goto("/account/")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("code.key")).to_have_text(re.compile(r"^[0-9a-f]{40}$"))
    screenshot(page, "account")

    operator = new_page()
    log_in(operator, "ops", PASSWORD)
    operator.goto("/admin/monitoring/feedback/?status__exact=new")
    expect(operator.locator("#result_list")).to_contain_text("Quick, but <b>the</b> form")
    screenshot(operator, "admin-feedback")
    operator.locator("#result_list").get_by_role("link", name="Quick, but").click()
    operator.get_by_label("Status").select_option("resolved")
    operator.get_by_label("Reply").fill("Noted: the form will keep your input.")
    operator.get_by_role("button", name="Save", exact=True).click()
    expect(operator.locator(".messagelist")).to_contain_text("was changed successfully")

    page.goto("/feedback/")
    item = page.locator(".feedback-item").first
    expect(item).to_contain_text("Resolved")
    expect(item.locator(".reply")).to_contain_text("Noted: the form will keep your input.")
    expect(item.locator(".message")).to_have_text("Quick, but <b>the</b> form could remember my texts.")
    screenshot(page, "feedback")


def test_staff_cancel_a_long_diagnostic_job(new_page, screenshot):
    User.objects.create_superuser("ops", password=PASSWORD)
    page = new_page()
    log_in(page, "ops", PASSWORD)

    page.goto("/jobs/new/diagnostic/")
    page.get_by_label("Subtasks").fill("6")
    page.get_by_label("Sleep ms").fill("15000")
    page.get_by_role("button", name="Submit job").click()
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    expect(page.locator("#progress .status")).to_have_text("running", timeout=60_000)
    page.get_by_role("button", name="Cancel job").click()

    expect(page.locator("#progress .status")).to_have_text("canceled")
    expect(page.get_by_role("button", name="Cancel job")).to_have_count(0)
    assert Job.objects.get().status == Job.Status.CANCELED
    screenshot(page, "job-canceled")

"""/jobs/ and /jobs/<id>/: the user's jobs, live progress, cancel and retry."""

import pytest
from django.test import Client

from jobs.models import Job


def test_the_list_shows_only_my_jobs_newest_first(web, make_job, stranger):
    older, newer = make_job(), make_job("wordcount", {"texts": ["x"]})
    theirs = make_job(user=stranger)

    html = web.get("/jobs/").content.decode()

    assert html.index(f"#{newer.pk}<") < html.index(f"#{older.pk}<")
    assert f"#{theirs.pk}<" not in html
    assert 'aria-valuenow="0"' in html


def test_the_list_filters_by_status_and_type_in_the_url(web, make_job):
    queued = make_job()
    done = make_job("wordcount", {"texts": ["x"]}, status=Job.Status.SUCCEEDED, done=1)

    by_status = web.get("/jobs/?status=succeeded").content.decode()
    by_type = web.get("/jobs/?type=diagnostic").content.decode()

    assert f"#{done.pk}<" in by_status and f"#{queued.pk}<" not in by_status
    assert f"#{queued.pk}<" in by_type and f"#{done.pk}<" not in by_type


def test_the_list_is_paginated(web, make_job):
    for _ in range(26):
        make_job()

    first, second = web.get("/jobs/").content.decode(), web.get("/jobs/?page=2").content.decode()

    assert "Page 1 of 2" in first and 'rel="next"' in first
    assert second.count('<a href="/jobs/') - second.count('href="/jobs/new/') == 1


def test_the_list_polls_while_a_job_is_active_and_not_after(web, make_job):
    job = make_job()

    live = web.get("/jobs/").content.decode()
    Job.objects.filter(pk=job.pk).update(status=Job.Status.CANCELED)
    fragment = web.get("/jobs/", HTTP_HX_REQUEST="true").content.decode()

    assert 'hx-trigger="every 2s"' in live
    assert fragment.lstrip().startswith("<div id=\"job-table\"") and "hx-trigger" not in fragment


def test_a_stranger_gets_404_on_every_job_url(stranger_web, wordcount_job):
    for suffix in ["", "progress/", "result.json", "result.csv"]:
        assert stranger_web.get(f"/jobs/{wordcount_job.pk}/{suffix}").status_code == 404, suffix
    for action in ["cancel", "retry", "delete"]:
        assert stranger_web.post(f"/jobs/{wordcount_job.pk}/{action}/").status_code == 404, action


def test_the_detail_page_shows_progress_timings_queue_and_priority(web, make_job):
    job = make_job(params={"subtasks": 4})
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, done=2, failed=1)

    html = web.get(f"/jobs/{job.pk}/").content.decode()

    assert 'aria-valuenow="75"' in html
    assert "<dt>Done</dt><dd>2</dd>" in html and "<dt>Failed</dt><dd>1</dd>" in html
    assert "<dt>Total</dt><dd>4</dd>" in html
    assert "<dt>Queue</dt><dd>default</dd>" in html and "<dt>Priority</dt><dd>normal</dd>" in html
    assert f'hx-get="/jobs/{job.pk}/progress/?page=1"' in html and 'hx-trigger="every 1s"' in html


def test_the_detail_page_paginates_subtasks(web, make_job):
    job = make_job(params={"subtasks": 120})

    first = web.get(f"/jobs/{job.pk}/").content.decode()
    last = web.get(f"/jobs/{job.pk}/?page=3").content.decode()

    assert "Page 1 of 3" in first and first.count("<td>queued") + first.count("pending") >= 50
    assert "<td>100</td>" in last and "<td>119</td>" in last and "<td>99</td>" not in last


def test_the_progress_fragment_stops_polling_with_286_when_the_job_ends(web, make_job, wordcount_job):
    active = make_job()

    polling = web.get(f"/jobs/{active.pk}/progress/", HTTP_HX_REQUEST="true")
    ended = web.get(f"/jobs/{wordcount_job.pk}/progress/", HTTP_HX_REQUEST="true")

    assert polling.status_code == 200 and "hx-trigger" in polling.content.decode()
    html = ended.content.decode()
    assert ended.status_code == 286
    assert 'hx-trigger' not in html
    assert 'id="result" class="result" hx-swap-oob="true"' in html and "<td>the</td>" in html
    assert 'id="subtasks" class="subtasks" hx-swap-oob="true"' in html


def test_the_progress_fragment_refreshes_the_subtask_page_being_shown(web, make_job):
    job = make_job(params={"subtasks": 60})

    html = web.get(f"/jobs/{job.pk}/progress/?page=2", HTTP_HX_REQUEST="true").content.decode()

    assert "Page 2 of 2" in html and "<td>59</td>" in html
    assert f'hx-get="/jobs/{job.pk}/progress/?page=2"' in html


def test_a_wordcount_result_is_a_table_of_top_words(web, wordcount_job):
    html = web.get(f"/jobs/{wordcount_job.pk}/").content.decode()

    assert "Most frequent words" in html
    assert '<td>1</td><td>the</td><td class="num">2</td>' in html
    assert "Distinct words" in html


@pytest.mark.parametrize(
    "type_name, params, result, shown",
    [
        ("stats", {"values": [1, 2]}, {"count": 2, "sum": 3.0, "mean": 1.5, "min": 1.0, "max": 2.0, "stdev": 0.7071067811865476}, ["Standard deviation (sample)", "0.707107"]),
        ("primes", {"start": 0, "end": 100}, {"count": 25, "largest": 97}, ["Primes in the range", "25", "Largest prime", "97"]),
    ],
)
def test_other_results_are_tables_of_figures(web, make_job, type_name, params, result, shown):
    job = make_job(type_name, params, status=Job.Status.SUCCEEDED, done=1, result=result)

    html = web.get(f"/jobs/{job.pk}/").content.decode()

    for text in shown:
        assert text in html


def test_cancel_is_offered_only_while_the_job_is_active_and_cancels_it(web, make_job, wordcount_job):
    job = make_job()

    assert f'action="/jobs/{job.pk}/cancel/"' in web.get(f"/jobs/{job.pk}/").content.decode()
    assert "/cancel/" not in web.get(f"/jobs/{wordcount_job.pk}/").content.decode()
    response = web.post(f"/jobs/{job.pk}/cancel/")

    assert response.status_code == 302
    assert Job.objects.get(pk=job.pk).status == Job.Status.CANCELED
    assert "canceled." in web.get(response["Location"]).content.decode()


def test_retry_is_offered_only_for_a_failed_job_and_reruns_it(web, make_job):
    job = make_job(status=Job.Status.FAILED, failed=1, error="diagnostic permanent fault")

    html = web.get(f"/jobs/{job.pk}/").content.decode()
    response = web.post(f"/jobs/{job.pk}/retry/")

    assert f'action="/jobs/{job.pk}/retry/"' in html and "diagnostic permanent fault" in html
    assert response.status_code == 302
    assert Job.objects.get(pk=job.pk).status == Job.Status.RUNNING


def test_delete_is_offered_only_for_a_finished_job_and_removes_it(web, make_job, wordcount_job):
    active = make_job()

    assert "/delete/" not in web.get(f"/jobs/{active.pk}/").content.decode()
    assert f'action="/jobs/{wordcount_job.pk}/delete/"' in web.get(f"/jobs/{wordcount_job.pk}/").content.decode()
    refused = web.post(f"/jobs/{active.pk}/delete/")
    response = web.post(f"/jobs/{wordcount_job.pk}/delete/")

    assert Job.objects.filter(pk=active.pk).exists()
    assert "only a finished job can be deleted" in web.get(refused["Location"]).content.decode()
    assert response.status_code == 302 and response["Location"] == "/jobs/"
    assert not Job.objects.filter(pk=wordcount_job.pk).exists()


def test_a_waiting_job_says_why_and_the_reason_is_live(web, make_job):
    job = make_job()  # no worker has ever reported: nothing consumes its queue

    page = web.get(f"/jobs/{job.pk}/").content.decode()
    fragment = web.get(f"/jobs/{job.pk}/progress/", HTTP_HX_REQUEST="true").content.decode()

    assert 'class="waiting"' in page and "no live worker" in page
    assert "no live worker" in fragment


def test_a_retry_over_an_admission_limit_is_refused_and_changes_nothing(web, make_job, settings):
    job = make_job(status=Job.Status.FAILED, failed=1, error="boom")
    make_job()  # one active job already
    settings.LEPTON_MAX_ACTIVE_JOBS_PER_USER = 1

    response = web.post(f"/jobs/{job.pk}/retry/")

    assert Job.objects.get(pk=job.pk).status == Job.Status.FAILED
    assert "Not retried" in web.get(response["Location"]).content.decode()


def test_cancel_refuses_a_get_and_a_post_without_csrf(owner, make_job):
    job = make_job()
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)

    assert client.get(f"/jobs/{job.pk}/cancel/").status_code == 405
    assert client.post(f"/jobs/{job.pk}/cancel/").status_code == 403
    assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED


def test_an_error_text_is_shown_escaped(web, make_job):
    job = make_job(status=Job.Status.FAILED, error="<script>alert(1)</script>")

    html = web.get(f"/jobs/{job.pk}/").content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html

"""/jobs/new/ and /jobs/new/<type>/: the job type's params form, submitted through submit_job."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from jobs.models import Job, Subtask


def form_post(web, type_name, data, **files):
    return web.post(f"/jobs/new/{type_name}/", {"priority": "normal", "idempotency_key": "k-1", **data, **files})


def counts():
    return Job.objects.count(), Subtask.objects.count()


def test_it_lists_the_job_types_as_cards(web):
    html = web.get("/jobs/new/").content.decode()

    for name in ["wordcount", "primes", "stats", "diagnostic"]:
        assert f'href="/jobs/new/{name}/"' in html
    assert "Counts the words in a list of texts" in html
    assert "Queue: cpu" in html


def test_the_form_has_labels_help_and_initial_values(web):
    html = web.get("/jobs/new/wordcount/").content.decode()

    assert '<label for="id_texts">Texts:</label>' in html
    assert "one text per line (form and CLI)" in html
    assert 'name="top" value="10"' in html
    assert 'type="file"' in html and 'name="texts_file"' in html
    assert 'name="idempotency_key"' in html and 'type="hidden"' in html


def test_an_unknown_type_is_a_404(web):
    assert web.get("/jobs/new/nope/").status_code == 404


def test_a_valid_submission_redirects_303_to_the_new_job(web, owner):
    response = form_post(web, "wordcount", {"texts": "the cat\nthe dog", "top": "2", "chunk_size": ""})

    job = Job.objects.get()
    assert response.status_code == 303
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert (job.owner, job.type, job.params) == (owner, "wordcount", {"texts": ["the cat", "the dog"], "top": 2, "chunk_size": 10})


def test_an_error_shows_next_to_its_field_and_creates_nothing(web):
    before = counts()

    response = form_post(web, "wordcount", {"texts": "the cat", "top": "ten"})

    html = response.content.decode()
    assert response.status_code == 400
    assert counts() == before
    errors_at = html.index('id="id_top_errors"')
    assert html.index('name="top"') < errors_at < html.index('name="chunk_size"')
    assert "Enter a whole number." in html[errors_at:]


def test_a_cross_field_error_shows_at_its_field(web):
    response = form_post(web, "primes", {"start": "100", "end": "10"})

    html = response.content.decode()
    assert response.status_code == 400
    assert "End must be greater than start" in html[html.index('id="id_end_errors"'):]


def test_the_same_idempotency_key_twice_makes_one_job(web):
    data = {"texts": "a b c", "idempotency_key": "double-click"}

    first = form_post(web, "wordcount", data)
    second = form_post(web, "wordcount", data)

    assert Job.objects.count() == 1
    assert first["Location"] == second["Location"] == f"/jobs/{Job.objects.get().pk}/"


def test_a_list_can_be_uploaded_as_a_file(web):
    upload = SimpleUploadedFile("texts.txt", b"one fish\ntwo fish\n", content_type="text/plain")

    response = form_post(web, "wordcount", {"texts": ""}, texts_file=upload)

    assert response.status_code == 303
    assert Job.objects.get().params["texts"] == ["one fish", "two fish"]


def test_a_file_over_the_limit_is_refused_with_a_clear_message(web, settings):
    settings.LEPTON_WEB_UPLOAD_MAX_BYTES = 100
    before = counts()
    upload = SimpleUploadedFile("big.txt", b"word " * 100, content_type="text/plain")

    response = form_post(web, "wordcount", {"texts": ""}, texts_file=upload)

    html = response.content.decode()
    assert response.status_code == 400
    assert counts() == before
    assert "The file big.txt is 500\xa0bytes; files may be at most 100\xa0bytes" in html


def test_a_file_that_is_not_utf8_is_refused(web):
    upload = SimpleUploadedFile("bin.txt", b"\xff\xfe\x00", content_type="text/plain")

    response = form_post(web, "wordcount", {"texts": ""}, texts_file=upload)

    assert "The file bin.txt is not UTF-8 text." in response.content.decode()
    assert Job.objects.count() == 0


def test_an_admission_refusal_is_a_friendly_message_and_creates_nothing(web, make_job, settings):
    settings.LEPTON_MAX_ACTIVE_JOBS_PER_USER = 1
    make_job()
    before = counts()

    response = form_post(web, "wordcount", {"texts": "a b"})

    html = response.content.decode()
    assert response.status_code == 429
    assert response["Retry-After"] == str(settings.LEPTON_ADMISSION_RETRY_AFTER)
    assert "Lepton cannot take this job right now" in html and "Nothing was submitted" in html
    assert counts() == before


def test_priority_is_applied(web):
    form_post(web, "wordcount", {"texts": "a", "priority": "high"})

    assert Job.objects.get().priority == "high"


def test_csrf_is_enforced(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)

    response = form_post(client, "wordcount", {"texts": "a"})

    assert response.status_code == 403
    assert Job.objects.count() == 0


@pytest.mark.parametrize("typed", ["<script>alert(1)</script>", '"><img src=x>'])
def test_what_the_user_typed_is_shown_escaped(web, typed):
    response = form_post(web, "primes", {"start": typed, "end": "10"})

    html = response.content.decode()
    assert typed not in html
    assert "&lt;" in html


def test_a_pasted_input_over_the_request_limit_gets_a_readable_400(web, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = web.post("/jobs/new/wordcount/", {"texts": "word " * 1000, "idempotency_key": "k"})

    assert response.status_code == 400
    assert "Upload a large" in response.content.decode()
    assert Job.objects.count() == 0

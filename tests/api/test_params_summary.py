"""Large params are summarised, never echoed or listed in full (issues 9.3 and 8.14).

The create response, the list and the detail show `params_summary`; the detail shows
the params themselves only when they are small, and `params_url` downloads them.
"""

import json

from django.db import connection
from django.test.utils import CaptureQueriesContext

from jobs.models import JobParams
from jobs.params_summary import INLINE_ITEMS

LARGE = [float(number) for number in range(INLINE_ITEMS + 1)]


def test_the_create_response_does_not_echo_large_params(submit):
    response = submit("stats", {"values": LARGE})

    assert response.status_code == 201
    body = response.json()
    assert body["params"] is None
    assert body["params_summary"] == {
        "values": {"items": INLINE_ITEMS + 1, "first": [0.0, 1.0, 2.0]},
        "chunk_size": 10_000,
    }
    assert len(response.content) < 2000


def test_the_detail_of_a_large_job_links_its_params_and_the_link_downloads_them(api, submit):
    job_id = submit("stats", {"values": LARGE}).json()["id"]

    detail = api.get(f"/api/jobs/{job_id}/").json()
    assert detail["params"] is None
    assert detail["params_url"] == f"http://testserver/api/jobs/{job_id}/params/"

    download = api.get(detail["params_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/json"
    assert download["Content-Disposition"] == f'attachment; filename="job-{job_id}-params.json"'
    assert json.loads(download.content) == {"values": LARGE, "chunk_size": 10_000}


def test_a_poll_of_a_large_job_never_reads_its_params(api, submit):
    job_id = submit("stats", {"values": LARGE}).json()["id"]
    params_column = connection.ops.quote_name(JobParams._meta.get_field("params").column)

    with CaptureQueriesContext(connection) as statements:
        detail = api.get(f"/api/jobs/{job_id}/").json()

    assert detail["params"] is None
    assert detail["params_summary"]["values"]["items"] == INLINE_ITEMS + 1
    assert not [statement["sql"] for statement in statements if params_column in statement["sql"]]


def test_the_list_shows_summaries_only(api, submit):
    for _ in range(3):
        submit("stats", {"values": LARGE})

    response = api.get("/api/jobs/")

    assert [set(job) & {"params", "params_summary"} for job in response.json()["results"]] == [{"params_summary"}] * 3
    assert len(response.content) < 5000


def test_the_detail_of_a_small_job_shows_its_params(api, submit):
    job_id = submit("wordcount", {"texts": ["a b", "c"]}).json()["id"]

    detail = api.get(f"/api/jobs/{job_id}/").json()

    assert detail["params"] == {"texts": ["a b", "c"], "top": 10, "chunk_size": 10}
    assert detail["params_summary"] == {"texts": {"items": 2, "chars": 4, "first": ["a b", "c"]}, "top": 10, "chunk_size": 10}


def test_a_stranger_cannot_download_the_params(stranger_api, job):
    assert stranger_api.get(f"/api/jobs/{job.pk}/params/").status_code == 404

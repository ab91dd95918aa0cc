"""/jobs/<id>/result.json and result.csv: the result as a file, shaped per job type."""

import json

from jobs.models import Job


def test_the_json_download_is_the_result(web, wordcount_job):
    response = web.get(f"/jobs/{wordcount_job.pk}/result.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == f'attachment; filename="lepton-job-{wordcount_job.pk}-wordcount.json"'
    assert json.loads(response.content) == wordcount_job.result


def test_the_wordcount_csv_has_one_row_per_word(web, wordcount_job):
    response = web.get(f"/jobs/{wordcount_job.pk}/result.csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="lepton-job-{wordcount_job.pk}-wordcount.csv"'
    assert response.content.decode().splitlines() == ["word,count", "the,2", "cat,1", "dog,1"]


def test_other_csvs_are_name_value_rows(web, make_job):
    job = make_job("primes", {"start": 0, "end": 100}, status=Job.Status.SUCCEEDED, done=1, result={"count": 25, "largest": 97})

    response = web.get(f"/jobs/{job.pk}/result.csv")

    assert response.content.decode().splitlines() == ["name,value", "count,25", "largest,97"]


def test_a_text_value_a_spreadsheet_would_run_is_defused(web, make_job):
    job = make_job(status=Job.Status.SUCCEEDED, done=2, result={"note": "=HYPERLINK(1)"})

    response = web.get(f"/jobs/{job.pk}/result.csv")

    assert response.content.decode().splitlines()[1] == "note,'=HYPERLINK(1)"


def test_a_job_without_a_result_has_no_download(web, make_job):
    job = make_job()

    assert web.get(f"/jobs/{job.pk}/result.json").status_code == 404
    assert web.get(f"/jobs/{job.pk}/result.csv").status_code == 404

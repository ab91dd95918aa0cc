"""/jobs/<id>/result.json and .csv: a finished job's result as a file."""

import csv
import json

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404

from jobs.models import Job
from jobs.web import results


@login_required
def result_json(request, pk):
    job = _job_with_result(request, pk)
    response = HttpResponse(json.dumps(job.result, indent=2), content_type="application/json")
    return _attachment(response, job, "json")


@login_required
def result_csv(request, pk):
    job = _job_with_result(request, pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    csv.writer(response).writerows(results.csv_rows(job))
    return _attachment(response, job, "csv")


def _job_with_result(request, pk):
    job = get_object_or_404(Job.objects.only("pk", "type", "result", "owner_id"), pk=pk, owner=request.user)
    if job.result is None:
        raise Http404("This job has no result yet.")
    return job


def _attachment(response, job, extension):
    response["Content-Disposition"] = f'attachment; filename="lepton-job-{job.pk}-{job.type}.{extension}"'
    return response

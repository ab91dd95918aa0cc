"""/jobs/new/: pick a job type; /jobs/new/<type>/: its form, submitted through `submit_job`.

The form is the job type's own params form (the one the API validates with), plus a
priority, a hidden idempotency key and, for list fields, an optional file upload.
Validation happens once, in `submit_job`; its errors are shown next to their fields.
"""

import uuid

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse

from jobs import registry
from jobs.admission import AdmissionRefused
from jobs.fields import ListField
from jobs.models import Priority
from jobs.routing import queue_for
from jobs.submit import SubmissionError, submit_job

#: The suffix of the file input that may replace a list field's text area.
FILE_SUFFIX = "_file"


class SubmissionOptions(forms.Form):
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.NORMAL)
    # A fresh key per rendered form: a double click sends the same key twice, and
    # submit_job returns the first job for the second request.
    idempotency_key = forms.CharField(max_length=128, widget=forms.HiddenInput)


@login_required
def job_types(request):
    cards = [{"type": job_type, "queue": queue_for(job_type)} for job_type in registry.all_types()]
    return render(request, "jobs/job_types.html", {"cards": cards})


@login_required
def new_job(request, type_name):
    job_type = registry.find(type_name)
    if job_type is None:
        raise Http404(f"No job type called {type_name!r}.")
    if request.method != "POST":
        return _render(request, job_type, job_type.params_form(), Priority.NORMAL)
    options = SubmissionOptions(request.POST)
    params, errors = _params_from(request, job_type)
    if not options.is_valid():
        errors.setdefault(None, []).extend(m for ms in options.errors.values() for m in ms)
    if errors:
        return _render(
            request, job_type, job_type.params_form(data=request.POST), request.POST.get("priority"), errors, status=400
        )
    try:
        job, _ = submit_job(
            request.user, job_type.name, params, options.cleaned_data["priority"],
            options.cleaned_data["idempotency_key"],
        )
    except SubmissionError as exc:
        return _render(
            request, job_type, job_type.params_form(data=request.POST), options.cleaned_data["priority"],
            _field_errors(exc.errors), status=exc.status,
        )
    except AdmissionRefused as exc:
        refusal = (
            f"Lepton cannot take this job right now: {exc.message} "
            f"Nothing was submitted; try again in about {exc.retry_after} seconds."
        )
        response = _render(
            request, job_type, job_type.params_form(data=request.POST), options.cleaned_data["priority"],
            {None: [refusal]}, status=429,
        )
        response["Retry-After"] = str(exc.retry_after)
        return response
    # 303: the browser follows with a GET, so a reload does not post the form again.
    response = HttpResponseRedirect(reverse("job-detail", args=[job.pk]))
    response.status_code = 303
    return response


def _params_from(request, job_type):
    """The params as submitted (text, or an uploaded file's text), and upload errors by field."""
    params, errors = {}, {}
    for name, field in job_type.params_form.base_fields.items():
        value = request.POST.get(name, "")
        upload = request.FILES.get(name + FILE_SUFFIX) if isinstance(field, ListField) else None
        if upload is not None:
            value, error = _read_upload(upload)
            if error:
                errors[name] = [error]
        params[name] = value
    return params, errors


def _read_upload(upload):
    limit = settings.LEPTON_WEB_UPLOAD_MAX_BYTES
    if upload.size > limit:
        return None, (
            f"The file {upload.name} is {filesizeformat(upload.size)}; files may be at most "
            f"{filesizeformat(limit)} (LEPTON_WEB_UPLOAD_MAX_BYTES). Split the input into several jobs."
        )
    try:
        return upload.read().decode("utf-8"), None
    except UnicodeDecodeError:
        return None, f"The file {upload.name} is not UTF-8 text."


def _field_errors(errors):
    """submit_job's error body ({"params": {field: [...]}, "priority": [...]}) by form field.

    Errors that belong to no field of the form (limits, the idempotency key, the type)
    go under None and show above the form.
    """
    by_field = {}
    for key, value in errors.items():
        if key == "params" and isinstance(value, dict):
            for field, messages in value.items():
                by_field.setdefault(None if field == "non_field_errors" else field, []).extend(messages)
        elif key == "idempotency_key":
            by_field.setdefault(None, []).append(
                "This form was already used to submit a different job. The form below is fresh: submit it again."
            )
        else:
            by_field.setdefault(None, []).extend(value if isinstance(value, list) else [str(value)])
    return by_field


def _render(request, job_type, params_form, priority, errors=None, status=200):
    errors = errors or {}
    fields = [
        {
            "field": params_form[name],
            "errors": errors.get(name, []),
            "file_input": name + FILE_SUFFIX if isinstance(field, ListField) else None,
        }
        for name, field in params_form.fields.items()
    ]
    known = set(params_form.fields)
    general = [m for field, ms in errors.items() if field not in known for m in ms]
    options = SubmissionOptions(initial={"priority": priority or Priority.NORMAL, "idempotency_key": uuid.uuid4().hex})
    return render(
        request,
        "jobs/job_form.html",
        {
            "job_type": job_type,
            "fields": fields,
            "general_errors": general,
            "options": options,
            "upload_limit": settings.LEPTON_WEB_UPLOAD_MAX_BYTES,
        },
        status=status,
    )

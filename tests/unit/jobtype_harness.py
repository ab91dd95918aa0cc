"""Drive a job type the way the platform does, in one process, with JSON in between."""

import json

from jobs import registry
from jobs.registry import SubtaskContext


def roundtrip(value):
    """What the value becomes after a trip through the broker or the database."""
    assert json.loads(json.dumps(value)) == value
    return value


def clean(type_name, params):
    form = registry.get(type_name).params_form(data=params)
    assert form.is_valid(), form.errors
    return form.cleaned_data


def run_job(type_name, params):
    """split -> process -> combine; partials reach combine as a generator, as in finalize."""
    jobtype = registry.get(type_name)
    cleaned = clean(type_name, params)
    payloads = [roundtrip(payload) for payload in jobtype.split(cleaned)]
    partials = (
        roundtrip(jobtype.process(payload, SubtaskContext(job_id=1, index=index, attempt=1)))
        for index, payload in enumerate(payloads)
    )
    return roundtrip(jobtype.combine(partials, cleaned))

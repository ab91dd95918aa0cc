"""Property-based fuzzing of the live API against its own OpenAPI schema.

Schemathesis reads /api/schema/ from a live server (a thread of this process over the
test database, publishing to the session's real broker, with the session's real
workers), and Hypothesis generates requests for every operation, valid by the schema and
deliberately invalid, all with a valid token. Every response must:

- never be a 500;
- conform to the schema: a documented status code, content type, headers and body;
- if 4xx, be a JSON object naming the field at fault (or `detail` for 401/404/429...).

The schema cannot say which params each job type takes (params is an object whose shape
depends on `type`), so submissions get a second round: bodies for every registered type
with its own parameter names and arbitrary JSON values, which reaches the forms, the
split, admission control and the idempotency paths.

Afterwards: every job row that exists was announced by a 201, each is whole (its params
row and all its subtasks), and the stack still runs a new job to the end.
"""

import time

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from jobs import tokens
from rest_framework.throttling import UserRateThrottle
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from jobs import registry
from jobs.control import cancel_job
from jobs.models import Job, JobParams, Subtask
from jobs.schema import describe_form
from tests.integration.conftest import wait_for_job

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

#: Examples per operation and generation mode; 7 operations x 2 modes x this in all.
EXAMPLES = 40

#: Keys a 400/409 body may use: the request's fields and query parameters, the body itself,
#: and the form-level errors of params.
FIELDS = {"type", "params", "priority", "idempotency_key", "status", "body", "non_field_errors"}


def names_the_field(ctx, response, case):
    """A 4xx is a JSON object; a 400 or 409 names fields, others give a `detail`."""
    if not 400 <= response.status_code < 500:
        return None
    assert response.headers.get("content-type", [""])[0].startswith("application/json"), (
        f"{response.status_code} is not JSON: {response.headers.get('content-type')}"
    )
    body = response.json()
    assert isinstance(body, dict) and body, f"{response.status_code} body is not a non-empty object: {body!r}"
    if response.status_code in (400, 409):
        assert set(body) <= FIELDS, f"{response.status_code} names no known field: {sorted(body)}"
    else:
        assert "detail" in body, f"{response.status_code} has no detail: {body!r}"
    return True


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
    suppress_health_check=list(HealthCheck),
)

#: Integers a client might send. Magnitudes stay small enough that an accepted job is
#: quick (a huge primes range is valid input that just takes long), plus the extremes
#: validation must refuse or store without overflow.
INTEGERS = st.integers(-10_000, 10_000) | st.sampled_from([2**31, 2**63, -(2**63), 10**30])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | INTEGERS | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)


def plausible(description):
    """Values of the kind a params field describes itself as taking (jobs.schema), within
    its bounds, kept small enough to run quickly."""
    low, high = description.get("minimum", -10_000), description.get("maximum", 10_000)
    if "choices" in description:
        return st.sampled_from(description["choices"])
    kinds = {
        "integer": st.integers(max(low, -10_000), min(high, 10_000)),
        "number": st.floats(low, high, allow_nan=False, allow_infinity=False),
        "boolean": st.booleans(),
        "string": st.text(max_size=20),
        "array": st.lists(
            st.floats(-1e6, 1e6) if description.get("items") == "number" else st.text(max_size=20), max_size=20
        ),
    }
    return kinds[description["type"]]


@st.composite
def submissions(draw):
    """A submission envelope for a registered type: its required params and some optional
    ones, each either a plausible value or arbitrary JSON, sometimes an unknown one."""
    job_type = draw(st.sampled_from(registry.all_types()))
    params = {}
    for description in describe_form(job_type.params_form):
        if description["required"] or draw(st.booleans()):
            # Mostly plausible, so that many submissions pass validation and reach the engine.
            junk = draw(st.integers(0, 4)) == 4
            params[description["name"]] = draw(JSON_VALUES if junk else plausible(description))
    if draw(st.integers(0, 9)) == 9:
        params["unknown"] = draw(JSON_VALUES)
    if job_type.name == "primes" and isinstance(params.get("end"), int):
        assume(params["end"] <= 10**7)
    body = {"type": job_type.name, "params": params}
    optional = {
        "priority": st.sampled_from(["high", "normal", "low", "urgent"]),
        "idempotency_key": st.sampled_from(["k1", "k2", "", "x" * 200]),
    }
    for key, values in optional.items():
        if draw(st.booleans()):
            body[key] = draw(values)
    return body


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    names_the_field,
]


# Hundreds of requests over a shared machine: more than the suite's default 300 s at worst.
@pytest.mark.timeout(900)
def test_it_survives_fuzzing_of_every_endpoint(platform, live_server, owner, monkeypatch):
    # The fuzzer sends far more than the default rate: let its requests reach the views
    # (429s stay covered by the schema and by tests/api).
    monkeypatch.setitem(UserRateThrottle.THROTTLE_RATES, "user", "1000000/minute")
    token = tokens.issue(owner)
    auth = {"Authorization": f"Token {token}"}
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 9, [op.label for op in operations]

    created = set()
    examples = 0

    def send(case):
        nonlocal examples
        examples += 1
        response = case.call(headers=auth, timeout=60)
        case.validate_response(response, checks=CHECKS)
        if response.status_code == 201:
            created.add(response.json()["id"])
        if response.status_code == 204 and case.method.upper() == "DELETE":
            created.discard(int(case.path_parameters["id"]))

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(mode))
            @FUZZ_SETTINGS
            def fuzz(case):
                send(case)

            fuzz()

    submit = next(op for op in operations if op.method.upper() == "POST" and op.path == "/api/jobs/")

    @given(body=submissions())
    @FUZZ_SETTINGS
    def fuzz_submissions(body):
        send(submit.Case(body=body, media_type="application/json"))

    fuzz_submissions()

    print(f"\n[fuzz] {examples} requests over {len(operations)} operations, {len(created)} jobs created")
    assert examples >= (len(operations) * 2 + 1) * EXAMPLES // 2
    assert created, "no submission was valid: the submission round did not reach the engine"

    # Nothing half-created: every job was announced by a 201 (and not deleted) and is whole.
    jobs = list(Job.objects.all())
    assert {job.pk for job in jobs} == created
    for job in jobs:
        assert JobParams.objects.filter(job=job).exists(), f"job {job.pk} has no params row"
        assert Subtask.objects.filter(job=job).count() == job.total, f"job {job.pk} lacks subtasks"

    # The stack still works: with the fuzzer's jobs out of the way, a new job runs to the end.
    for job in jobs:
        cancel_job(job.pk)
    wait_until_idle(timeout=120)
    response = schema_free_submit(live_server.url, auth)
    assert wait_for_job(response["id"], timeout=120).status == Job.Status.SUCCEEDED


def wait_until_idle(timeout):
    """Until no subtask is running (a canceled job's running subtasks finish on their own)."""
    deadline = time.monotonic() + timeout
    while Subtask.objects.filter(status=Subtask.Status.RUNNING).exists():
        assert time.monotonic() < deadline, "subtasks still running after the fuzzing"
        time.sleep(0.2)


def schema_free_submit(base_url, auth):
    response = requests.post(
        f"{base_url}/api/jobs/", json={"type": "diagnostic", "params": {"subtasks": 4}}, headers=auth, timeout=60
    )
    assert response.status_code == 201, response.text
    return response.json()

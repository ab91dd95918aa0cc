"""POST /api/jobs/: submitting a job, refusing a bad one whole, and idempotency keys."""

import time

import pytest
from django.db import connection

from jobs.models import Job, Subtask
from jobs.params_summary import INLINE_ITEMS

JOB_KEYS = {
    "id", "type", "status", "params", "params_summary", "params_url", "priority", "queue", "progress",
    "result", "error", "created_at", "started_at", "finished_at", "waiting_reason",
}


def messages_at(body, path):
    """The list of error messages at `path` (a tuple of keys) in an error body."""
    for key in path:
        body = body[key]
    assert isinstance(body, list) and all(isinstance(message, str) for message in body), body
    return body


def test_it_creates_a_job_and_returns_it_with_its_cleaned_params(submit, owner):
    response = submit("wordcount", {"texts": ["a b", "c", "d e f"], "chunk_size": 2})

    assert response.status_code == 201
    body = response.json()
    assert set(body) == JOB_KEYS
    assert body["type"] == "wordcount"
    assert body["status"] == "queued"
    assert body["params"] == {"texts": ["a b", "c", "d e f"], "top": 10, "chunk_size": 2}
    assert body["priority"] == "normal"
    assert body["queue"] == "default"
    assert body["progress"] == {"total": 2, "done": 0, "failed": 0, "running": 0}
    assert (body["result"], body["error"]) == (None, "")
    assert body["created_at"] is not None
    assert (body["started_at"], body["finished_at"]) == (None, None)

    job = Job.objects.get()
    assert (job.pk, job.owner, job.type, job.total) == (body["id"], owner, "wordcount", 2)
    assert job.params == body["params"]
    assert list(job.subtasks.order_by("index").values_list("index", "payload")) == [
        (0, {"texts": ["a b", "c"]}),
        (1, {"texts": ["d e f"]}),
    ]


def test_it_creates_one_subtask_per_chunk(submit):
    response = submit("primes", {"start": 0, "end": 1000, "chunk_size": 300})

    assert response.status_code == 201
    assert response.json()["progress"]["total"] == 4
    assert Subtask.objects.filter(job_id=response.json()["id"]).count() == 4


def test_it_queues_the_first_window_and_leaves_the_rest_pending(submit, settings, subtask_states):
    settings.LEPTON_JOB_WINDOW = 3

    response = submit("diagnostic", {"subtasks": 5})

    assert response.status_code == 201
    job = Job.objects.get(pk=response.json()["id"])
    assert subtask_states(job) == [
        (0, "queued", 1),
        (1, "queued", 1),
        (2, "queued", 1),
        (3, "pending", 0),
        (4, "pending", 0),
    ]
    assert not job.subtasks.filter(status="queued", queued_at__isnull=True).exists()
    assert not job.subtasks.filter(status="pending", queued_at__isnull=False).exists()


@pytest.mark.parametrize("window", [3, 700])
def test_every_row_is_written_once_across_statements_and_the_window(submit, settings, window):
    settings.LEPTON_JOB_WINDOW = window  # 1,203 rows: several multi-row INSERTs (subtask_rows)

    response = submit("diagnostic", {"subtasks": 1203})

    assert response.status_code == 201
    rows = list(Subtask.objects.filter(job_id=response.json()["id"]).order_by("index").values_list("index", "status", "payload"))
    assert [index for index, _, _ in rows] == list(range(1203))
    assert [payload["index"] for _, _, payload in rows] == list(range(1203))
    assert [status for _, status, _ in rows] == ["queued"] * window + ["pending"] * (1203 - window)


@pytest.mark.parametrize(
    "type_name, params, queue",
    [
        ("primes", {"start": 0, "end": 10}, "cpu"),
        ("wordcount", {"texts": ["x"]}, "default"),
    ],
)
def test_it_routes_a_job_to_its_types_queue(submit, type_name, params, queue):
    response = submit(type_name, params)

    assert response.status_code == 201
    assert response.json()["queue"] == queue
    assert Job.objects.get().queue == queue


def test_it_keeps_the_requested_priority(submit):
    response = submit("diagnostic", {"subtasks": 1}, priority="high")

    assert response.status_code == 201
    assert response.json()["priority"] == "high"
    assert Job.objects.get().priority == "high"


DIAGNOSTIC = {"type": "diagnostic", "params": {"subtasks": 2}}


@pytest.mark.parametrize(
    "body, path, reason",
    [
        pytest.param({"type": "nope", "params": {}}, ("type",), "Unknown job type 'nope'", id="unknown-type"),
        pytest.param({"params": {"subtasks": 1}}, ("type",), "required", id="missing-type"),
        pytest.param({"type": "diagnostic", "params": [1]}, ("params",), "Must be an object", id="params-not-an-object"),
        pytest.param({"type": "diagnostic", "params": None}, ("params",), "may not be null", id="params-null"),
        pytest.param(
            {"type": "diagnostic", "params": {"subtasks": "many"}}, ("params", "subtasks"), "whole number",
            id="bad-param",
        ),
        pytest.param(
            {"type": "diagnostic", "params": {"subtasks": True}}, ("params", "subtasks"), "whole number",
            id="boolean-for-an-integer",
        ),
        pytest.param(
            {"type": "diagnostic", "params": {"subtasks": 2.5}}, ("params", "subtasks"), "whole number",
            id="fraction-for-an-integer",
        ),
        pytest.param(
            {"type": "diagnostic", "params": {"subtasks": 0}}, ("params", "subtasks"), "greater than or equal to 1",
            id="param-below-its-minimum",
        ),
        pytest.param({"type": "diagnostic", "params": {}}, ("params", "subtasks"), "required", id="missing-param"),
        pytest.param(
            {"type": "diagnostic", "params": {"subtasks": 1, "colour": "red"}}, ("params", "colour"),
            "Unknown parameter", id="unknown-param",
        ),
        pytest.param(
            {"type": "primes", "params": {"start": 10, "end": 10}}, ("params", "end"), "greater than start",
            id="primes-end-not-after-start",
        ),
        pytest.param({**DIAGNOSTIC, "priority": "urgent"}, ("priority",), "not a valid choice", id="bad-priority"),
        pytest.param({**DIAGNOSTIC, "idempotency_key": ""}, ("idempotency_key",), "blank", id="blank-key"),
        pytest.param('{"type": "diagnostic", "params": ', ("body",), "Not valid JSON", id="malformed-json"),
        pytest.param(
            '{"type": "stats", "params": {"values": [NaN]}}', ("body",), "NaN", id="nan-is-not-strict-json"
        ),
        pytest.param("[" * 100_000 + "]" * 100_000, ("body",), "Not valid JSON", id="deeply-nested-json"),
        pytest.param('[{"type": "diagnostic"}]', ("non_field_errors",), "Expected a dictionary", id="json-list"),
    ],
)
def test_it_rejects_an_invalid_submission_naming_the_field_and_creates_nothing(
    post_job, creates_nothing, body, path, reason
):
    with creates_nothing():
        response = post_job(body)

    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {path[0]}
    assert any(reason in message for message in messages_at(errors, path)), errors


def test_it_refuses_a_job_with_more_subtasks_than_the_limit(settings, submit, creates_nothing):
    settings.LEPTON_MAX_SUBTASKS_PER_JOB = 3

    with creates_nothing():
        response = submit("diagnostic", {"subtasks": 4})

    assert response.status_code == 400
    [reason] = messages_at(response.json(), ("params", "non_field_errors"))
    assert "more than 3 subtasks" in reason


def test_it_accepts_a_job_with_exactly_the_limit_of_subtasks(settings, submit):
    settings.LEPTON_MAX_SUBTASKS_PER_JOB = 3

    response = submit("diagnostic", {"subtasks": 3})

    assert response.status_code == 201
    assert Subtask.objects.count() == 3


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's cached statements keep what was bound to them")
@pytest.mark.parametrize("values, retired", [(10, False), (INLINE_ITEMS + 1, True)])
def test_the_connection_that_stored_large_params_is_closed_when_its_request_ends(submit, values, retired):
    connection.ensure_connection()
    before, started = connection.close_at, time.monotonic()

    response = submit("stats", {"values": list(range(values))})

    assert response.status_code == 201
    # Django's end-of-request check closes a connection past `close_at` (close_old_connections).
    if retired:
        assert started <= connection.close_at <= time.monotonic()
    else:
        assert connection.close_at == before


def test_it_refuses_a_body_larger_than_the_upload_limit(settings, submit, creates_nothing):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000

    with creates_nothing():
        response = submit("stats", {"values": list(range(1000))})

    assert response.status_code == 400
    [reason] = messages_at(response.json(), ("body",))
    assert "larger than 2000 bytes" in reason


def test_a_repeated_idempotency_key_returns_the_first_job(submit):
    first = submit("diagnostic", {"subtasks": 2}, idempotency_key="nightly-1")
    again = submit("diagnostic", {"subtasks": 2}, idempotency_key="nightly-1")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert Job.objects.count() == 1
    assert Subtask.objects.count() == 2


def test_a_replay_matches_on_the_cleaned_params_so_spelled_out_defaults_are_the_same_job(submit):
    first = submit("diagnostic", {"subtasks": 2}, idempotency_key="nightly-1")
    again = submit("diagnostic", {"subtasks": 2, "seed": 0, "fail_mode": "transient"}, idempotency_key="nightly-1")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert Job.objects.count() == 1


@pytest.mark.parametrize(
    "different",
    [
        pytest.param({"type": "diagnostic", "params": {"subtasks": 3}}, id="params"),
        pytest.param({"type": "primes", "params": {"start": 0, "end": 2}}, id="type"),
        pytest.param({"type": "diagnostic", "params": {"subtasks": 2}, "priority": "low"}, id="priority"),
    ],
)
def test_reusing_an_idempotency_key_for_a_different_job_is_a_conflict(post_job, creates_nothing, different):
    first = post_job({"type": "diagnostic", "params": {"subtasks": 2}, "idempotency_key": "nightly-1"})

    with creates_nothing():
        response = post_job({**different, "idempotency_key": "nightly-1"})

    assert response.status_code == 409
    assert set(response.json()) == {"idempotency_key"}
    assert "Already used" in messages_at(response.json(), ("idempotency_key",))[0]
    assert Job.objects.get().params == first.json()["params"]


def test_the_same_idempotency_key_from_another_user_is_a_separate_job(submit, stranger_api, owner, stranger):
    mine = submit("diagnostic", {"subtasks": 2}, idempotency_key="nightly-1")
    theirs = submit("diagnostic", {"subtasks": 2}, idempotency_key="nightly-1", client=stranger_api)

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]
    assert Job.objects.get(pk=mine.json()["id"]).owner == owner
    assert Job.objects.get(pk=theirs.json()["id"]).owner == stranger


def test_an_internal_job_type_is_unknown_to_users(api):
    response = api.post("/api/jobs/", {"type": "canary", "params": {"token": "x"}}, format="json")
    listed = [job_type["name"] for job_type in api.get("/api/job-types/").json()["results"]]

    assert response.status_code == 400
    assert response.json()["type"][0].startswith("Unknown job type 'canary'")
    assert "canary" not in listed
    assert not Job.objects.exists()

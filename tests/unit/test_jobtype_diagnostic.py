from functools import partial
import inspect
import json
import time

import pytest

from jobs import registry
from jobs.jobtypes.diagnostic import FIRST_ATTEMPT, Diagnostic
from jobs.registry import PermanentError, SubtaskContext, TransientError
from tests.unit import jobtype_harness
from tests.unit.jobtype_harness import roundtrip

clean = partial(jobtype_harness.clean, "diagnostic")


def payloads(params):
    return [roundtrip(payload) for payload in registry.get("diagnostic").split(clean(params))]


def run(payload, attempt=FIRST_ATTEMPT):
    context = SubtaskContext(job_id=1, index=payload["index"], attempt=attempt)
    return roundtrip(registry.get("diagnostic").process(payload, context))


def failing(params, attempt=FIRST_ATTEMPT, error=TransientError):
    """Indexes of the subtasks whose `attempt` raises `error`."""
    failed = set()
    for payload in payloads(params):
        try:
            run(payload, attempt)
        except error:
            failed.add(payload["index"])
    return failed


def test_it_is_registered_on_the_default_queue_with_room_for_retries():
    jobtype = registry.get("diagnostic")
    assert isinstance(jobtype, Diagnostic)
    assert jobtype.queue == "default"
    assert jobtype.max_retries == 8
    assert jobtype.description


@pytest.mark.parametrize("subtasks", [1, 7, 1000])
def test_it_returns_the_subtask_count_and_index_sum(subtasks):
    partials = (run(payload) for payload in payloads({"subtasks": subtasks}))
    result = roundtrip(registry.get("diagnostic").combine(partials, {}))
    assert result == {"subtasks": subtasks, "index_sum": sum(range(subtasks))}


def test_split_is_a_generator():
    assert inspect.isgenerator(registry.get("diagnostic").split(clean({"subtasks": 1})))


def test_it_makes_one_payload_per_subtask():
    params = {"subtasks": 3, "sleep_ms": 5, "fail_rate": 0.5, "fail_mode": "permanent", "seed": 9}
    knobs = {"sleep_ms": 5, "fail_rate": 0.5, "fail_mode": "permanent", "seed": 9}
    assert payloads(params) == [{"index": index, **knobs} for index in range(3)]


def test_it_sleeps_for_sleep_ms():
    [payload] = payloads({"subtasks": 1, "sleep_ms": 50})
    started = time.monotonic()
    assert run(payload) == 0
    assert time.monotonic() - started >= 0.05


def test_the_same_seed_fails_the_same_subtasks():
    params = {"subtasks": 500, "fail_rate": 0.3, "seed": 42}
    failed = failing(params)
    assert 100 < len(failed) < 200
    assert failing(params) == failed
    assert failing({**params, "seed": 43}) != failed


def test_a_transient_fault_is_rerolled_on_each_attempt():
    params = {"subtasks": 500, "fail_rate": 0.3, "seed": 42}
    first, second = (
        failing(params, attempt=FIRST_ATTEMPT),
        failing(params, attempt=FIRST_ATTEMPT + 1),
    )
    assert first != second
    assert len(first & second) < len(first) / 2


def test_a_permanent_fault_recurs_on_every_attempt():
    params = {"subtasks": 500, "fail_rate": 0.3, "fail_mode": "permanent", "seed": 42}
    failed = failing(params, error=PermanentError)
    assert 100 < len(failed) < 200
    for attempt in range(FIRST_ATTEMPT + 1, FIRST_ATTEMPT + 4):
        assert failing(params, attempt=attempt, error=PermanentError) == failed


def test_permanent_mode_fails_the_subtasks_transient_mode_fails_first():
    params = {"subtasks": 200, "fail_rate": 0.3, "seed": 5}
    permanent = failing({**params, "fail_mode": "permanent"}, error=PermanentError)
    assert permanent == failing(params)


@pytest.mark.parametrize("fail_rate, expected", [(0, set()), (1, set(range(50)))])
def test_fail_rate_0_never_fails_and_1_always_fails(fail_rate, expected):
    assert failing({"subtasks": 50, "fail_rate": fail_rate}) == expected


def test_fault_messages_name_the_subtask_and_attempt():
    [payload] = payloads({"subtasks": 1, "fail_rate": 1})
    with pytest.raises(
        TransientError, match=r"^diagnostic transient fault in subtask 0, attempt 3$"
    ):
        run(payload, attempt=3)
    [payload] = payloads({"subtasks": 1, "fail_rate": 1, "fail_mode": "permanent"})
    with pytest.raises(PermanentError, match=r"^diagnostic permanent fault in subtask 0$"):
        run(payload, attempt=3)


def test_every_subtask_succeeds_within_its_retries_at_fail_rate_0_2():
    jobtype = registry.get("diagnostic")
    last_attempt = FIRST_ATTEMPT + jobtype.max_retries
    for payload in payloads({"subtasks": 1000, "fail_rate": 0.2, "seed": 1}):
        for attempt in range(FIRST_ATTEMPT, last_attempt + 1):
            try:
                assert run(payload, attempt) == payload["index"]
                break
            except TransientError:
                assert attempt < last_attempt


def test_form_applies_defaults():
    assert clean({"subtasks": 3}) == {
        "subtasks": 3,
        "sleep_ms": 0,
        "fail_rate": 0.0,
        "fail_mode": "transient",
        "seed": 0,
    }
    empty = {"sleep_ms": "", "fail_rate": "", "fail_mode": "", "seed": ""}
    assert clean({"subtasks": "3", **empty}) == clean({"subtasks": 3})


def test_form_reads_text_input():
    params = {
        "subtasks": "4",
        "sleep_ms": "10",
        "fail_rate": "0.25",
        "fail_mode": "permanent",
        "seed": "-7",
    }
    assert clean(params) == {
        "subtasks": 4,
        "sleep_ms": 10,
        "fail_rate": 0.25,
        "fail_mode": "permanent",
        "seed": -7,
    }


@pytest.mark.parametrize(
    "params, field, message",
    [
        ({}, "subtasks", "This field is required."),
        ({"subtasks": 0}, "subtasks", "Ensure this value is greater than or equal to 1."),
        ({"subtasks": 100_001}, "subtasks", "Ensure this value is less than or equal to 100000."),
        ({"subtasks": "ten"}, "subtasks", "Enter a whole number."),
        ({"subtasks": True}, "subtasks", "Enter a whole number."),
        (
            {"subtasks": 1, "sleep_ms": -1},
            "sleep_ms",
            "Ensure this value is greater than or equal to 0.",
        ),
        (
            {"subtasks": 1, "sleep_ms": 600_001},
            "sleep_ms",
            "Ensure this value is less than or equal to 600000.",
        ),
        (
            {"subtasks": 1, "fail_rate": 1.5},
            "fail_rate",
            "Ensure this value is less than or equal to 1.",
        ),
        (
            {"subtasks": 1, "fail_rate": -0.1},
            "fail_rate",
            "Ensure this value is greater than or equal to 0.",
        ),
        ({"subtasks": 1, "fail_rate": False}, "fail_rate", "Enter a number."),
        (
            {"subtasks": 1, "fail_mode": "sometimes"},
            "fail_mode",
            "Select a valid choice. sometimes is not one of the available choices.",
        ),
        ({"subtasks": 1, "seed": 1.5}, "seed", "Enter a whole number."),
    ],
)
def test_form_rejects_bad_params(params, field, message):
    form = Diagnostic.params_form(data=params)
    assert not form.is_valid()
    assert form.errors[field] == [message]

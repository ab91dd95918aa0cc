from functools import partial
import inspect
import json

import pytest

from jobs import registry
from jobs.jobtypes.primes import Primes, count_primes
from jobs.registry import SubtaskContext
from tests.unit import jobtype_harness
from tests.unit.jobtype_harness import roundtrip

clean = partial(jobtype_harness.clean, "primes")
run_job = partial(jobtype_harness.run_job, "primes")


def is_prime(n):
    return n >= 2 and all(n % d for d in range(2, int(n**0.5) + 1))


def reference(start, end):
    primes = [n for n in range(start, end) if is_prime(n)]
    return {"count": len(primes), "largest": primes[-1] if primes else None}


def test_it_is_registered_on_the_cpu_queue():
    jobtype = registry.get("primes")
    assert isinstance(jobtype, Primes)
    assert jobtype.queue == "cpu"
    assert jobtype.description


@pytest.mark.parametrize(
    "start, end, chunk_size",
    [
        (0, 1, 1),
        (0, 2, 5),
        (0, 3, 5),
        (1, 3, 1),
        (2, 3, 1),
        (2, 4, 1),
        (3, 4, 10),
        (0, 100, 1),
        (0, 100, 7),
        (1, 1000, 13),
        (2, 1000, 1000),
        (0, 2000, 5000),
        (97, 98, 1),
        (961, 962, 1),
        (500, 3000, 333),
    ],
)
def test_it_matches_a_naive_count(start, end, chunk_size):
    assert run_job({"start": start, "end": end, "chunk_size": chunk_size}) == reference(start, end)


def test_it_finds_the_primes_below_a_million():
    assert run_job({"start": 0, "end": 10**6}) == {"count": 78498, "largest": 999983}


def test_it_finds_the_primes_below_a_million_in_uneven_chunks():
    assert run_job({"start": 0, "end": 10**6, "chunk_size": 77_777}) == {
        "count": 78498,
        "largest": 999983,
    }


def test_it_sieves_a_segment_far_from_zero():
    lo, hi = 10**9, 10**9 + 200
    assert count_primes(lo, hi) == tuple(reference(lo, hi).values())


@pytest.mark.parametrize("start, end", [(0, 2), (1, 2), (24, 29), (114, 127)])
def test_a_range_without_primes_has_no_largest(start, end):
    assert run_job({"start": start, "end": end}) == {"count": 0, "largest": None}


def test_split_is_a_generator():
    assert inspect.isgenerator(registry.get("primes").split(clean({"start": 0, "end": 10})))


def test_it_splits_the_range_into_half_open_chunks():
    payloads = list(registry.get("primes").split(clean({"start": 5, "end": 30, "chunk_size": 10})))
    assert payloads == [{"lo": 5, "hi": 15}, {"lo": 15, "hi": 25}, {"lo": 25, "hi": 30}]


def test_it_makes_one_payload_when_chunk_size_exceeds_the_range():
    payloads = list(registry.get("primes").split(clean({"start": 0, "end": 10})))
    assert payloads == [{"lo": 0, "hi": 10}]


def test_it_makes_one_payload_per_number_with_chunk_size_1():
    payloads = list(registry.get("primes").split(clean({"start": 3, "end": 6, "chunk_size": 1})))
    assert payloads == [{"lo": 3, "hi": 4}, {"lo": 4, "hi": 5}, {"lo": 5, "hi": 6}]


def test_form_applies_the_default_chunk_size():
    assert clean({"start": 0, "end": 10}) == {"start": 0, "end": 10, "chunk_size": 100_000}
    assert clean({"start": 0, "end": 10, "chunk_size": ""})["chunk_size"] == 100_000


def test_form_reads_numbers_from_text_input():
    assert clean({"start": "2", "end": "50", "chunk_size": "7"}) == {
        "start": 2,
        "end": 50,
        "chunk_size": 7,
    }


@pytest.mark.parametrize(
    "params, field, message",
    [
        ({"end": 10}, "start", "This field is required."),
        ({"start": 0}, "end", "This field is required."),
        ({"start": 5, "end": 5}, "end", "End must be greater than start (the range excludes end)."),
        ({"start": 9, "end": 5}, "end", "End must be greater than start (the range excludes end)."),
        ({"start": -1, "end": 5}, "start", "Ensure this value is greater than or equal to 0."),
        ({"start": "zero", "end": 5}, "start", "Enter a whole number."),
        ({"start": False, "end": 5}, "start", "Enter a whole number."),
        ({"start": 0, "end": True}, "end", "Enter a whole number."),
        ({"start": 0, "end": 5.5}, "end", "Enter a whole number."),
        (
            {"start": 0, "end": 5, "chunk_size": 0},
            "chunk_size",
            "Ensure this value is greater than or equal to 1.",
        ),
    ],
)
def test_form_rejects_bad_params(params, field, message):
    form = Primes.params_form(data=params)
    assert not form.is_valid()
    assert form.errors[field] == [message]

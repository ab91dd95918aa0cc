"""Every job type bounds the work of a subtask and of a request by its params (issue 9.1, 9.3).

The attacks: a `primes` range far from zero (10**16: 7.6 s and 430 MiB for one number),
and lists big enough to exhaust a web process. Each is refused at validation, and the
largest subtask that is accepted stays small.
"""

import tracemalloc

import pytest

from jobs import registry
from jobs.jobtypes import primes, stats, wordcount
from jobs.registry import SubtaskContext


def errors_of(type_name, params):
    form = registry.get(type_name).params_form(data=params)
    assert not form.is_valid()
    return form.errors


@pytest.mark.parametrize(
    "params, field",
    [
        ({"start": 10**16, "end": 10**16 + 1, "chunk_size": 1}, "start"),
        ({"start": 0, "end": 10**12 + 1}, "end"),
        ({"start": 0, "end": 100, "chunk_size": 10_000_001}, "chunk_size"),
    ],
)
def test_primes_refuses_ranges_whose_subtasks_would_be_unbounded(params, field):
    assert field in errors_of("primes", params)


def test_the_largest_accepted_primes_subtask_needs_little_memory():
    job_type = registry.get("primes")
    form = job_type.params_form(data={"start": primes.MAX_END - primes.MAX_CHUNK, "end": primes.MAX_END, "chunk_size": primes.MAX_CHUNK})
    assert form.is_valid(), form.errors
    [payload] = job_type.split(form.cleaned_data)

    tracemalloc.start()
    try:
        result = job_type.process(payload, SubtaskContext(job_id=1, index=0, attempt=1))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result == {"count": 362_479, "largest": 999_999_999_989}
    # The chunk's bytearray (10 MB) plus the base primes below 10**6: far from the 430 MiB
    # that one number near 10**16 took before the cap.
    assert peak < 40 * 2**20


def test_stats_refuses_more_values_than_its_cap():
    errors = errors_of("stats", {"values": [1.0] * (stats.MAX_VALUES + 1)})

    assert errors["values"] == ["Enter at most 500,000 items (got 500,001)."]


def test_stats_accepts_exactly_its_cap():
    form = registry.get("stats").params_form(data={"values": [1.0] * stats.MAX_VALUES})

    assert form.is_valid(), form.errors


def test_wordcount_refuses_more_texts_than_its_cap():
    errors = errors_of("wordcount", {"texts": ["a"] * (wordcount.MAX_TEXTS + 1)})

    assert errors["texts"] == ["Enter at most 100,000 items (got 100,001)."]


def test_wordcount_refuses_more_characters_in_all_than_its_cap():
    errors = errors_of("wordcount", {"texts": ["a" * 1_000_000, "b" * 1_000_001]})

    assert errors["texts"] == ["Enter at most 2,000,000 characters in all (got 2,000,001)."]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"subtasks": 100_001}, "subtasks"),
        ({"subtasks": 1, "sleep_ms": 600_001}, "sleep_ms"),
    ],
)
def test_diagnostic_bounds_its_subtasks_and_their_sleep(params, field):
    assert field in errors_of("diagnostic", params)

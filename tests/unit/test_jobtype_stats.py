from functools import partial
import inspect
import json
import random
import statistics

import pytest

from jobs import registry
from jobs.jobtypes.stats import Stats
from jobs.registry import SubtaskContext
from tests.unit import jobtype_harness
from tests.unit.jobtype_harness import roundtrip

clean = partial(jobtype_harness.clean, "stats")
run_job = partial(jobtype_harness.run_job, "stats")


def reference(values):
    return {
        "count": len(values),
        "sum": pytest.approx(sum(values), rel=1e-9),
        "mean": pytest.approx(statistics.mean(values), rel=1e-9),
        "min": min(values),
        "max": max(values),
        "stdev": pytest.approx(statistics.stdev(values), rel=1e-9) if len(values) > 1 else None,
    }


def random_values(count, seed=0, offset=0.0):
    rng = random.Random(seed)
    return [offset + rng.uniform(-1000, 1000) for _ in range(count)]


def test_it_is_registered_on_the_default_queue():
    jobtype = registry.get("stats")
    assert isinstance(jobtype, Stats)
    assert jobtype.queue == "default"
    assert jobtype.description


def test_it_summarises_a_few_numbers():
    assert run_job({"values": [2, 4, 4, 4, 5, 5, 7, 9], "chunk_size": 3}) == reference(
        [2, 4, 4, 4, 5, 5, 7, 9]
    )


@pytest.mark.parametrize("chunk_size", [1, 2, 7, 1000, 10_000])
def test_it_matches_the_statistics_module(chunk_size):
    values = random_values(1000)
    assert run_job({"values": values, "chunk_size": chunk_size}) == reference(values)


def test_it_matches_the_statistics_module_with_the_default_chunk_size():
    values = random_values(25_000, seed=3)
    assert run_job({"values": values}) == reference(values)


def test_it_stays_accurate_for_values_far_from_zero():
    values = random_values(2000, seed=1, offset=1e9)
    assert run_job({"values": values, "chunk_size": 64}) == reference(values)


def test_a_single_value_has_no_stdev():
    assert run_job({"values": [3.5]}) == {
        "count": 1,
        "sum": 3.5,
        "mean": 3.5,
        "min": 3.5,
        "max": 3.5,
        "stdev": None,
    }


def test_chunks_of_one_value_merge_into_a_stdev():
    assert run_job({"values": [1, 3], "chunk_size": 1})["stdev"] == pytest.approx(
        statistics.stdev([1, 3])
    )


def test_each_partial_summarises_its_chunk_without_the_values():
    partial = registry.get("stats").process({"values": [1.0, 2.0, 6.0]}, SubtaskContext(1, 0, 1))
    # In units of 2**scale (here 8): 9/8, 3/8 and 14/64.
    assert partial == {"count": 3, "scale": 3, "sum": 1.125, "mean": 0.375, "m2": 0.21875, "min": 1.0, "max": 6.0}


def test_split_is_a_generator():
    assert inspect.isgenerator(registry.get("stats").split(clean({"values": [1]})))


def test_it_puts_chunk_size_values_in_each_payload():
    payloads = list(
        registry.get("stats").split(clean({"values": [1, 2, 3, 4, 5], "chunk_size": 2}))
    )
    assert [payload["values"] for payload in payloads] == [[1, 2], [3, 4], [5]]


def test_it_makes_one_payload_when_chunk_size_exceeds_the_values():
    payloads = list(registry.get("stats").split(clean({"values": [1, 2, 3]})))
    assert [payload["values"] for payload in payloads] == [[1, 2, 3]]


def test_form_applies_the_default_chunk_size():
    assert clean({"values": [1]}) == {"values": [1.0], "chunk_size": 10_000}
    assert clean({"values": [1], "chunk_size": ""})["chunk_size"] == 10_000


def test_form_reads_numbers_separated_by_commas_or_whitespace():
    assert clean({"values": " 1, 2.5 -3\n4e2,,\t5 "})["values"] == [1.0, 2.5, -3.0, 400.0, 5.0]


def test_form_reads_a_json_list_from_text_input():
    assert clean({"values": "[1, 2.5]"})["values"] == [1.0, 2.5]


@pytest.mark.parametrize(
    "params, field, message",
    [
        ({}, "values", "This field is required."),
        ({"values": []}, "values", "This field is required."),
        ({"values": " , "}, "values", "This field is required."),
        ({"values": [1, "two"]}, "values", "Item 1: Enter a number."),
        ({"values": [True]}, "values", "Item 0: Enter a number."),
        ({"values": "1, nan"}, "values", "Item 1: Enter a number."),
        ({"values": [1, "inf"]}, "values", "Item 1: Enter a number."),
        (
            {"values": [1], "chunk_size": 0},
            "chunk_size",
            "Ensure this value is greater than or equal to 1.",
        ),
        ({"values": [1], "chunk_size": "many"}, "chunk_size", "Enter a whole number."),
    ],
)
def test_form_rejects_bad_params(params, field, message):
    form = Stats.params_form(data=params)
    assert not form.is_valid()
    assert form.errors[field] == [message]


@pytest.mark.parametrize(
    "values",
    [
        [1e200, 1e200],
        [1e308, 1e308, 1e308],
        [1e308, -1e308],
        [1.5e308, 1.6e308, -1.2e308],
        [1e-300, 2e-300, 3e-300],
        [1, 2, 3, 1e308],
    ],
)
@pytest.mark.parametrize("chunk_size", [1, 2, 10])
def test_it_matches_the_statistics_module_at_extreme_magnitudes(values, chunk_size):
    result = run_job({"values": values, "chunk_size": chunk_size})

    assert result["count"] == len(values)
    assert result["mean"] == pytest.approx(statistics.mean(values), rel=1e-9)
    assert result["stdev"] == pytest.approx(statistics.stdev(values), rel=1e-9)
    assert (result["min"], result["max"]) == (min(values), max(values))


def test_a_sum_beyond_the_float_range_is_null_and_the_rest_still_right():
    result = run_job({"values": [1e308, 1e308, 1e308], "chunk_size": 1})

    assert result["sum"] is None
    assert result["mean"] == 1e308 and result["stdev"] == 0.0


def test_a_standard_deviation_beyond_the_float_range_is_a_clear_error():
    with pytest.raises(registry.PermanentError, match="standard deviation is beyond the largest float"):
        run_job({"values": [1.7e308, -1.7e308], "chunk_size": 1})

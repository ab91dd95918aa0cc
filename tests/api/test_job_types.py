"""GET /api/job-types/: every registered type with its queue and params schema."""

import pytest

from jobs import registry


@pytest.fixture
def job_types(api):
    response = api.get("/api/job-types/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(registry.all_types()) and body["next"] is None
    return {job_type["name"]: job_type for job_type in body["results"]}


def params_of(job_types, type_name):
    return {param["name"]: param for param in job_types[type_name]["params"]}


def test_it_lists_every_registered_job_type_by_name(job_types):
    assert list(job_types) == [job_type.name for job_type in registry.all_types()]
    assert {"diagnostic", "primes", "stats", "wordcount"} <= set(job_types)


@pytest.mark.parametrize(
    "type_name, queue", [("diagnostic", "default"), ("primes", "cpu"), ("stats", "default"), ("wordcount", "default")]
)
def test_each_type_shows_its_description_and_queue(job_types, type_name, queue):
    assert set(job_types[type_name]) == {"name", "description", "queue", "restricted", "params"}
    assert job_types[type_name]["description"] == registry.get(type_name).description
    assert job_types[type_name]["queue"] == queue


def test_it_describes_the_params_in_form_order(job_types):
    assert list(params_of(job_types, "primes")) == ["start", "end", "chunk_size"]
    assert list(params_of(job_types, "wordcount")) == ["texts", "top", "chunk_size"]


def test_it_describes_a_required_integer_with_its_bounds(job_types):
    assert params_of(job_types, "primes")["start"] == {
        "name": "start",
        "type": "integer",
        "required": True,
        "help": "First number of the range.",
        "minimum": 0,
        "maximum": 10**12 - 1,
    }


def test_it_describes_an_optional_param_with_its_default(job_types):
    assert params_of(job_types, "primes")["chunk_size"] == {
        "name": "chunk_size",
        "type": "integer",
        "required": False,
        "default": 100_000,
        "help": "Numbers per subtask.",
        "minimum": 1,
        "maximum": 10_000_000,
    }


def test_it_lists_the_choices_of_a_choice_param(job_types):
    fail_mode = params_of(job_types, "diagnostic")["fail_mode"]

    assert fail_mode["type"] == "string"
    assert fail_mode["choices"] == ["transient", "permanent"]
    assert fail_mode["default"] == "transient"


def test_it_describes_a_list_param_with_the_type_of_its_items(job_types):
    texts = params_of(job_types, "wordcount")["texts"]

    assert (texts["type"], texts["items"], texts["required"]) == ("array", "string", True)


def test_it_describes_real_numbers_as_numbers_not_integers(job_types):
    assert params_of(job_types, "diagnostic")["fail_rate"]["type"] == "number"
    assert params_of(job_types, "stats")["values"]["items"] == "number"


@pytest.mark.parametrize("type_name, param", [("wordcount", "texts"), ("stats", "values")])
def test_list_params_describe_both_the_json_and_the_text_input(job_types, type_name, param):
    help_text = params_of(job_types, type_name)[param]["help"]

    assert "JSON list" in help_text and "(API)" in help_text and "(form and CLI)" in help_text


def test_it_shows_the_per_request_caps_of_list_params(job_types):
    assert params_of(job_types, "stats")["values"]["max_items"] == 500_000
    texts = params_of(job_types, "wordcount")["texts"]
    assert (texts["max_items"], texts["max_chars"]) == (100_000, 2_000_000)
    assert params_of(job_types, "primes")["end"]["maximum"] == 10**12

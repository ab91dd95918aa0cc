"""POST /api/jobs/ under attack: input that once crashed the API or poisoned a user's views.

Each test sends what an attacker sent (issue 9: 2, 6, 11) and expects a 400 naming the
field, in the user's terms, with nothing created.
"""

import pytest

SURROGATE = "\\ud800"  # as it travels in JSON text: a valid escape, but not UTF-8 text


@pytest.mark.parametrize(
    "body, field",
    [
        ('{"type": "wordcount", "params": {"texts": ["a %s b"]}}' % SURROGATE, "params"),
        ('{"type": "wordcount", "params": {"texts": "a %s b"}}' % SURROGATE, "params"),
        ('{"type": "wordcount", "params": {"t%sxts": ["a"]}}' % SURROGATE, "params"),
        ('{"type": "word%scount", "params": {"texts": ["a"]}}' % SURROGATE, "type"),
        ('{"type": "wordcount", "params": {"texts": ["a"]}, "idempotency_key": "k%s"}' % SURROGATE, "idempotency_key"),
        ('{"type": "diagnostic", "params": {"subtasks": 1, "fail_mode": "%s"}}' % SURROGATE, "params"),
    ],
)
def test_it_refuses_a_lone_surrogate_anywhere_naming_the_field(post_job, creates_nothing, body, field):
    with creates_nothing():
        response = post_job(body)

    assert response.status_code == 400
    [reason] = response.json()[field]
    assert "lone UTF-16 surrogate" in reason and "\\ud800" in reason


def test_a_lone_surrogate_in_a_field_name_is_refused_as_a_body_error(post_job, creates_nothing):
    with creates_nothing():
        response = post_job('{"ty%spe": "wordcount"}' % SURROGATE)

    assert response.status_code == 400
    assert "lone UTF-16 surrogate" in response.json()["body"][0]


def test_the_refusal_says_where_the_bad_text_is(post_job):
    response = post_job('{"type": "wordcount", "params": {"texts": ["ok", "a %s b"]}}' % SURROGATE)

    assert response.json()["params"][0].startswith("params.texts[1] contains \\ud800")


def test_a_string_param_nested_thousands_deep_is_a_400_not_a_recursion_error(submit, creates_nothing):
    with creates_nothing():
        response = submit("wordcount", {"texts": "[" * 100_000})

    assert response.status_code == 400
    [reason] = response.json()["params"]["texts"]
    assert reason.startswith("Not a valid JSON list:")


def test_a_string_param_nested_a_little_too_deep_is_refused_by_depth(submit, creates_nothing):
    with creates_nothing():
        response = submit("wordcount", {"texts": "[" * 40 + "]" * 40})

    assert response.status_code == 400
    assert "nested more than 32 levels deep" in response.json()["params"]["texts"][0]


def test_a_body_nested_deeper_than_any_params_need_is_refused(post_job, creates_nothing):
    with creates_nothing():
        nested = ["a"]
        for _ in range(33):
            nested = [nested]
        response = post_job({"type": "wordcount", "params": {"texts": nested}})

    assert response.status_code == 400
    assert "nested more than 32 levels deep" in response.json()["params"][0]


@pytest.mark.parametrize(
    "body, where",
    [
        ('{"type": "primes", "params": {"start": 0, "end": 1%s}}' % ("0" * 5000), ("body",)),
        ('{"type": "stats", "params": {"values": "[1%s]"}}' % ("0" * 5000), ("params", "values")),
    ],
)
def test_a_number_with_too_many_digits_is_explained_without_parser_internals(post_job, creates_nothing, body, where):
    with creates_nothing():
        response = post_job(body)

    assert response.status_code == 400
    errors = response.json()
    for key in where:
        errors = errors[key]
    [reason] = errors
    assert "a number has more than 4300 digits" in reason
    assert "sys." not in response.content.decode() and "int_max_str_digits" not in response.content.decode()


@pytest.mark.parametrize("body", ["\xff{}".encode("latin-1"), b'{"type": "\xc3"}'])
def test_bytes_that_are_not_utf8_are_a_400_in_plain_words(api, body):
    response = api.post("/api/jobs/", data=body, content_type="application/json")

    assert response.status_code == 400
    [reason] = response.json()["body"]
    assert reason.startswith("Not valid UTF-8: byte ")
    assert "codec" not in reason


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(post_job, constant):
    response = post_job('{"type": "stats", "params": {"values": [1, %s]}}' % constant)

    assert response.status_code == 400
    assert response.json() == {"body": [f"Not valid JSON: {constant} is not a JSON number."]}

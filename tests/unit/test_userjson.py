"""jobs.userjson: JSON from users, refused in the user's terms."""

import pytest

from jobs import userjson


def test_it_parses_plain_json():
    assert userjson.loads('{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}


@pytest.mark.parametrize(
    "text, reason",
    [
        ("[" * 100_000, "nested more than 32 levels deep."),
        ("[" * 33 + "]" * 33, "the value[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0] is nested more than 32 levels deep."),
        ("[1" + "0" * 4300 + "]", "a number has more than 4300 digits."),
        ("[NaN]", "NaN is not a JSON number."),
        ('["a \\ud800"]', "the value[0] contains \\ud800, a lone UTF-16 surrogate: not text that UTF-8 can encode."),
        ('{"\\udfff": 1}', "a key of the value contains \\udfff, a lone UTF-16 surrogate: not text that UTF-8 can encode."),
        ("[1,", "Expecting value at line 1, column 4."),
    ],
)
def test_it_refuses_with_a_reason_for_the_user(text, reason):
    with pytest.raises(userjson.UserJSONError) as refused:
        userjson.loads(text)

    assert str(refused.value) == reason
    assert "sys." not in str(refused.value)


def test_it_accepts_the_most_digits_python_converts():
    assert userjson.loads("1" + "0" * 4299) == 10**4299


def test_it_accepts_text_beyond_the_basic_plane():
    assert userjson.loads('["\\ud83d\\ude00 é"]') == ["\U0001f600 é"]


def test_the_check_walks_a_million_numbers_without_recursion():
    userjson.check_storable({"values": [1.0] * 1_000_000})

"""jobs.encoding: an object holding a long list of numbers is encoded fast, into text that
decodes to exactly that object, every number keeping its type and its value; a payload
decodes fast to exactly what json.loads gives."""

import json
import math

from hypothesis import given
from hypothesis import strategies as st

from jobs.encoding import EncodedJSON, decoded, encoded

LONG = 100


def decodes_to(result, value):
    """repr tells 1 from 1.0 and 0.0 from -0.0, and a dict's repr keeps its order."""
    assert isinstance(result, EncodedJSON)
    assert repr(json.loads(result.text)) == repr(value)


def test_a_long_list_of_numbers_keeps_every_number_and_type():
    numbers = [0.1, -2, 1e-300, 3.5e300, 0, 7.0, -0.0, 1e-05, 5e-324, 12345678901234567890] * 10
    value = {"label": "a, b", "values": numbers, "chunk_size": 3, "none": None}

    decodes_to(encoded(value), value)


def test_every_long_list_of_numbers_is_encoded_fast_beside_the_others():
    value = {"a": [1.5] * LONG, "texts": ["x"] * LONG, "b": list(range(LONG))}

    result = encoded(value)
    decodes_to(result, value)
    assert "1.5,1.5" in result.text and "0,1,2" in result.text  # orjson's, not json.dumps's ", "


def test_anything_else_is_left_for_its_field_to_encode():
    for value in (
        {"values": [1.5] * (LONG // 10)},  # short
        {"flags": [True, False] * LONG},  # bools are not numbers here
        {"texts": ["a, b"] * LONG},
        {"values": [1.5] * LONG + [None]},
        {"values": [1.5] * LONG + [math.nan]},  # json.dumps writes NaN, orjson null
        {"values": [1.5] * LONG + [math.inf]},
        {"values": [1, 2**64, -(2**70)] * LONG},  # past 64 bits: orjson refuses
        {1: [1.5] * LONG},  # json.dumps turns the key into "1"
        [1.5] * LONG,
        "text",
    ):
        assert encoded(value) is value


AWKWARD_TEXTS = [
    "[12345678901234567890123, -9223372036854775809, 18446744073709551615, 9223372036854775807]",
    '{"seed": 123456789012345678901234567890, "values": [0.5, 1.5]}',
    "[1e19, 9.3e18, -1e300, 5e-324, -0.0, 0, 1.0]",
    "[NaN, Infinity, -Infinity]",
    "[1e400, -1e400]",
    '["\\ud800", {"\\udfff": 1}]',
    '{"a": 1, "a": 2}',
    '{"deep": [[[[{"x": [1, 2.5, "three", null, true]}]]]]}',
    '"just text"',
    "42",
]


def test_a_payload_decodes_to_what_json_loads_gives():
    for text in AWKWARD_TEXTS:
        assert repr(decoded(text)) == repr(json.loads(text)), text


def test_stored_text_that_is_not_json_comes_back_as_it_is_as_from_the_field():
    assert decoded('{"values": [1, 2') == '{"values": [1, 2'


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda children: st.lists(children) | st.dictionaries(st.text(), children),
        max_leaves=50,
    )
)
def test_any_stored_value_decodes_as_json_loads_decodes_it(value):
    text = json.dumps(value)

    assert repr(decoded(text)) == repr(json.loads(text))

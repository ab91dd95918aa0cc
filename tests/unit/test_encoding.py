"""jobs.encoding: a list split into payloads is encoded once, into texts that decode to
the params and to each payload, every number keeping its type and its value."""

import json

from jobs.encoding import shared_slices
from jobs.jobtypes.stats import Stats


def assert_encode(texts, params, payloads):
    """The texts decode to exactly these values: repr tells 1 from 1.0 and 0.0 from -0.0."""
    params_text, payload_texts = texts
    assert repr(json.loads(params_text)) == repr(params)
    assert [repr(json.loads(text)) for text in payload_texts] == [repr(payload) for payload in payloads]


def test_payloads_slicing_a_list_of_numbers_get_texts_of_exactly_their_numbers():
    values = [0.1, -2, 1e-300, 3.5e300, 0, 7.0, -0.0, 1e-05, 5e-324, 12345678901234567890]
    params = {"values": values, "chunk_size": 3}
    payloads = list(Stats().split(params))

    assert_encode(shared_slices(params, payloads), params, payloads)


def test_integers_past_64_bits_are_encoded_too():
    values = [1, 2**64, -(2**70), 0.5]
    params = {"values": values, "chunk_size": 2}
    payloads = list(Stats().split(params))

    assert_encode(shared_slices(params, payloads), params, payloads)


def test_other_keys_of_a_payload_keep_their_place():
    values = [1.5, 2.5, 3.5]
    params = {"label": "a, b", "values": values}
    payloads = [{"values": values[:2], "n": 0, "tag": "x, y"}, {"n": 1, "values": values[2:], "tag": None}]

    assert_encode(shared_slices(params, payloads), params, payloads)


def test_anything_but_consecutive_slices_of_the_same_numbers_is_encoded_as_usual():
    values = [1, 2, 3, 4]
    assert shared_slices({"values": values}, [{"values": values[:2]}, {"values": values[3:]}]) is None
    assert shared_slices({"values": values}, [{"values": values[:2]}]) is None
    # Equal but not the same numbers: 1 == 1.0, yet their texts differ.
    assert shared_slices({"values": values}, [{"values": [1.0, 2.0, 3.0, 4.0]}]) is None
    texts = ["a, b", "c"]
    assert shared_slices({"texts": texts}, [{"texts": texts[:1]}, {"texts": texts[1:]}]) is None
    flags = [True, False]
    assert shared_slices({"flags": flags}, [{"flags": flags}]) is None
    assert shared_slices({"values": values}, [[1, 2, 3, 4]]) is None
    assert shared_slices({"values": values}, []) is None

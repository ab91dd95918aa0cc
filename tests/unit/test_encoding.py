"""jobs.encoding: a list split into payloads is encoded once, into exactly the texts
json.dumps gives for the params and for each payload."""

import json

from jobs.encoding import shared_slices
from jobs.jobtypes.stats import Stats


def test_payloads_slicing_a_list_of_numbers_get_the_texts_json_gives_them():
    values = [0.1, -2, 1e-300, 3.5e300, 0, 7.0, -0.0, 12345678901234567890]
    params = {"values": values, "chunk_size": 3}
    payloads = list(Stats().split(params))

    assert shared_slices(params, payloads) == (json.dumps(params), [json.dumps(payload) for payload in payloads])


def test_other_keys_of_a_payload_keep_their_place():
    values = [1.5, 2.5, 3.5]
    params = {"label": "a, b", "values": values}
    payloads = [{"values": values[:2], "n": 0, "tag": "x, y"}, {"n": 1, "values": values[2:], "tag": None}]

    assert shared_slices(params, payloads) == (json.dumps(params), [json.dumps(payload) for payload in payloads])


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

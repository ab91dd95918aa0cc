"""Params and payloads holding long lists of numbers, encoded fast; payloads decoded fast.

A `stats` job's 500,000 numbers are in its params and again, in slices, in its payloads:
`json.dumps` took 0.25 s for each copy, most of a submission's time (issue 12). orjson
encodes a list of numbers 14 times faster (0.018 s): the same numbers in their shortest
round-trip form, though not always the same characters (`1e-05` is `0.00001` there).

A list goes to orjson only when every element is exactly an int or a float, and its
text is kept only if it holds no `null`: orjson writes NaN and the infinities as null,
where `json.dumps` writes NaN and Infinity, so such a list keeps json.dumps's text, as do
integers past 64 bits, which orjson refuses. Everything else is encoded as before.

A worker decodes each payload it claims: for a chunk of 10,000 numbers `json.loads` took
3 ms, a third of the worker's time on a stats job, orjson 0.3 ms (`decoded`).
"""

import json

import orjson

#: What separates members in json.dumps's text.
SEPARATOR = ", "
#: Shorter lists are not worth the check.
MIN_FAST_LIST = 64
NUMBER_TYPES = {int, float}
#: orjson reads an integer past 64 bits as a float, always of at least this magnitude.
LOST_INTEGER_MAGNITUDE = 2.0**63


class EncodedJSON:
    """A JSON value as text already: VerbatimJSONField stores it as it is."""

    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text


def encoded(value):
    """`value` as its JSON text (EncodedJSON) when it is an object holding a long list of
    numbers; else `value` itself, for its field to encode as usual."""
    if type(value) is not dict or not all(type(key) is str for key in value):
        return value
    fast = {key: text for key, item in value.items() if (text := _numbers_text(item)) is not None}
    if not fast:
        return value
    members = (f"{json.dumps(key)}: {fast[key] if key in fast else json.dumps(item)}" for key, item in value.items())
    return EncodedJSON("{" + SEPARATOR.join(members) + "}")


def _numbers_text(item):
    """orjson's text of a long list of numbers, or None where it would not be json.dumps's
    numbers (NaN, infinities) or cannot (integers past 64 bits)."""
    if type(item) is not list or len(item) < MIN_FAST_LIST or not set(map(type, item)) <= NUMBER_TYPES:
        return None
    try:
        text = orjson.dumps(item)
    except orjson.JSONEncodeError:
        return None
    return None if b"null" in text else text.decode()


def decoded(text):
    """The value a JSON field gives for stored `text` (`json.loads(text)`, or the text
    itself if it is not JSON, as Django's JSONField.from_db_value), by orjson where that
    gives the same value.

    orjson refuses what json.loads reads beyond JSON (NaN, Infinity, lone surrogates,
    numbers past the float range); json.loads reads those texts. It reads an integer past
    64 bits as a float: a value holding a float of that magnitude is read again by
    json.loads, as the float may have been such an integer.
    """
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return _standard(text)
    return _standard(text) if _may_hold_lost_integer(value) else value


def _standard(text):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _may_hold_lost_integer(value):
    pending = [value]
    while pending:
        item = pending.pop()
        if type(item) is dict:
            item = list(item.values())
        elif type(item) is not list:
            item = [item]
        if set(map(type, item)) <= NUMBER_TYPES:
            if max(map(abs, item), default=0) >= LOST_INTEGER_MAGNITUDE:
                return True
            continue
        for member in item:
            if type(member) in (list, dict):
                pending.append(member)
            elif type(member) is float and abs(member) >= LOST_INTEGER_MAGNITUDE:
                return True
    return False

"""Reading JSON that users send, with every refusal in the user's terms.

Two front doors read JSON text: the API's request body (jobs.api.parsers) and list
params given as text (jobs.fields, for the CLI and the web form). Both refuse the
same things with the same words, and neither lets a parser's internals reach the
user (e.g. Python's `sys.set_int_max_str_digits` advice, issue 9.11).

What is refused, and why:
- nesting deeper than MAX_DEPTH: deeper structures are no job's params, and every
  recursive step downstream (validation, JSON encoding for the database) would pay;
- integers of more than MAX_INT_DIGITS digits: Python refuses to convert them anyway;
- NaN and Infinity: not JSON, and not storable;
- lone UTF-16 surrogates (`"\\ud800"`): valid JSON escapes, but not text that UTF-8 can
  encode, so nothing could store or render it (issue 9.2).
"""

import json

#: Deepest nesting accepted; every built-in job type needs 2 (an object of lists).
MAX_DEPTH = 32
#: Python's default limit on int <-> str conversion (sys.get_int_max_str_digits()).
MAX_INT_DIGITS = 4300
#: Values with nothing in them to check (exact types: a str subclass is still looked at).
SCALAR_TYPES = {int, float, bool, type(None)}


class UserJSONError(ValueError):
    """JSON a user sent that Lepton refuses; the message is for the user."""


def _parse_int(digits):
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise UserJSONError(f"a number has more than {MAX_INT_DIGITS} digits.")
    return int(digits)


def _parse_constant(name):
    raise UserJSONError(f"{name} is not a JSON number.")


def loads(text):
    """The value of JSON `text`; UserJSONError (a readable reason) if it is refused."""
    value = loads_unchecked(text)
    check_storable(value)
    return value


def loads_unchecked(text):
    """Parse `text` (refusing huge integers, NaN, bad syntax) without check_storable."""
    try:
        value = json.loads(text, parse_int=_parse_int, parse_constant=_parse_constant)
    except json.JSONDecodeError as exc:
        raise UserJSONError(f"{exc.msg} at line {exc.lineno}, column {exc.colno}.") from None
    except RecursionError:
        raise UserJSONError(f"nested more than {MAX_DEPTH} levels deep.") from None
    return value


def check_storable(value, where="the value"):
    """Raise UserJSONError if `value` nests too deeply or holds text UTF-8 cannot encode.

    Iterative, so the check itself cannot overflow the stack on the input it refuses;
    only containers are queued, so a list of a million numbers costs no extra memory. A
    list of scalars alone is passed over at C speed (500,000 numbers: ~15 ms, not 0.3 s).
    """
    if isinstance(value, str):
        _check_text(value, where)
    pending = [(value, where, 1)] if isinstance(value, (list, dict)) else []
    while pending:
        container, path, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise UserJSONError(f"{path} is nested more than {MAX_DEPTH} levels deep.")
        is_object = isinstance(container, dict)
        if not is_object and set(map(type, container)) <= SCALAR_TYPES:
            continue
        for key, child in container.items() if is_object else enumerate(container):
            if is_object:
                _check_text(key, f"a key of {path}")
            if isinstance(child, str):
                _check_text(child, _join(path, key, is_object))
            elif isinstance(child, (list, dict)):
                pending.append((child, _join(path, key, is_object), depth + 1))


def _join(path, key, is_object):
    return f"{path}.{key}" if is_object else f"{path}[{key}]"


def _check_text(text, path):
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            bad = ascii(text[exc.start])[1:-1]
            raise UserJSONError(
                f"{path} contains {bad}, a lone UTF-16 surrogate: not text that UTF-8 can encode."
            ) from None

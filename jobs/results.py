"""Whether a job type's output can be stored: JSON with finite numbers only.

A partial or result that the database refuses (NaN, ±inf, a set, bytes, an object) used
to fail the write outside any error handling, so the job looped forever (invariant 9).
It is checked before the write instead, and the subtask or job fails at once with an
error that names the job type, where in the value the problem is, and what it is.
"""

import math

MAX_SHOWN_CHARS = 80


class UnstorableResult(Exception):
    """The value cannot be stored as JSON; the message says what and where."""


def check_storable(value, job_type_name, what):
    """Raise UnstorableResult unless `value` is plain JSON with finite numbers.

    `what` names the value in the message ("partial of subtask 3", "result").
    """
    problem = _first_problem(value, "")
    if problem is not None:
        where, reason = problem
        raise UnstorableResult(
            f"job type {job_type_name!r} returned a {what} that cannot be stored as JSON: "
            f"{reason} at {where or 'the top level'}"
        )


def _first_problem(value, where):
    """(path, reason) of the first value JSON cannot hold, or None. Iterative over
    containers so a deeply nested result cannot exhaust the stack."""
    stack = [(value, where)]
    while stack:
        item, path = stack.pop()
        if item is None or isinstance(item, (str, bool, int)):
            continue
        if isinstance(item, float):
            if not math.isfinite(item):
                return path, f"the number {item!r}"
            continue
        if isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    return path, f"the non-string key {_shown(key)}"
                stack.append((child, f"{path}[{key!r}]"))
            continue
        if isinstance(item, (list, tuple)):
            stack.extend((child, f"{path}[{index}]") for index, child in enumerate(item))
            continue
        return path, f"a {type(item).__name__} ({_shown(item)})"
    return None


def _shown(value):
    text = repr(value)
    return text if len(text) <= MAX_SHOWN_CHARS else text[: MAX_SHOWN_CHARS - 3] + "..."

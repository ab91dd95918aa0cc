"""A job's result for people: tables on the job page, rows in the CSV download.

`wordcount` is a table of words and counts; every other type is a list of named
figures (stats, primes, diagnostic, and any type registered later).
"""

import json

#: Readable names for known result fields; other fields show under their own name.
LABELS = {
    "wordcount": {"total_words": "Words in all texts", "unique_words": "Distinct words"},
    "primes": {"count": "Primes in the range", "largest": "Largest prime"},
    "stats": {
        "count": "Count", "sum": "Sum", "mean": "Mean", "min": "Minimum", "max": "Maximum",
        "stdev": "Standard deviation (sample)",
    },
    "diagnostic": {"subtasks": "Subtasks succeeded", "index_sum": "Sum of their indexes"},
}


def present(job):
    """{"figures": [(label, value)], "words": [(word, count)] or None}, or None without a result."""
    if job.result is None:
        return None
    words = job.result.get("top") if job.type == "wordcount" and isinstance(job.result, dict) else None
    return {"figures": figures(job), "words": words}


def figures(job):
    """(label, value) for each scalar field of the result; lists and objects as JSON text."""
    result = job.result
    if not isinstance(result, dict):
        return [("Result", _scalar(result))]
    labels = LABELS.get(job.type, {})
    return [
        (labels.get(name, name), _scalar(value))
        for name, value in result.items()
        if not (job.type == "wordcount" and name == "top")
    ]


def csv_rows(job):
    """Header and rows: one per word for wordcount, name/value for the others."""
    if job.type == "wordcount":
        return [("word", "count"), *[(word, count) for word, count in job.result.get("top", [])]]
    return [("name", "value"), *[(name, _cell(value)) for name, value in _fields(job.result)]]


def _fields(result):
    return result.items() if isinstance(result, dict) else [("result", result)]


def _scalar(value):
    return value if isinstance(value, (int, float, str)) or value is None else json.dumps(value)


def _cell(value):
    """A CSV cell a spreadsheet will not run as a formula."""
    text = "" if value is None else _scalar(value)
    if isinstance(text, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text

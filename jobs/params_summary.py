"""A job's params in a few hundred bytes: what lists and pages show instead of the params.

Params can be megabytes (a `stats` job of a million numbers). Listing fifty such jobs,
or echoing one back at submission, must not load or send them all (issue 9.3), so a
summary is computed once, at submission, and stored beside the params
(JobParams.summary). The API, the admin and the web pages show the summary, and the
params themselves only when they are small (`is_large`) or on their own download.

A summary maps each param to its value when that is short, or, for a list or a long
text, to a description: {"items": n, "chars": total characters of text, "first": [...]}.
"""

#: Items of a list, and characters of a text, shown in a summary.
PREVIEW_ITEMS = 3
PREVIEW_CHARS = 80
#: Params with more list items or characters than this are "large": shown as the summary
#: with a download link. 10,000 numbers are about 200 KB of JSON.
INLINE_ITEMS = 10_000
INLINE_CHARS = 100_000


def summarize(params):
    """The summary of a job's cleaned params (a dict of JSON values)."""
    return {name: _describe(value) for name, value in params.items()}


def is_large(summary):
    """Whether the params behind `summary` are too large to show inline."""
    items = chars = 0
    for value in summary.values():
        if isinstance(value, dict):
            items += value.get("items", 0)
            chars += value.get("chars", 0)
    return items > INLINE_ITEMS or chars > INLINE_CHARS


def describe(summary):
    """One line of text for pages: `texts: 3 items (1,204 chars); top: 10`."""
    parts = []
    for name, value in summary.items():
        if isinstance(value, dict) and "items" in value:
            text = f"{value['items']:,} items"
            if "chars" in value:
                text += f" ({value['chars']:,} chars)"
        elif isinstance(value, dict):
            text = f"{value['chars']:,} chars"
        else:
            text = repr(value)
        parts.append(f"{name}: {text}")
    return "; ".join(parts)


def _describe(value):
    if isinstance(value, list):
        described = {"items": len(value), "first": [_preview(item) for item in value[:PREVIEW_ITEMS]]}
        # Params are JSON values: plain types, so a set of types answers at C speed.
        if str in set(map(type, value)):
            described["chars"] = sum(len(item) for item in value if isinstance(item, str))
        return described
    if isinstance(value, str) and len(value) > PREVIEW_CHARS:
        return {"chars": len(value), "first": value[:PREVIEW_CHARS]}
    return value


def _preview(item):
    if isinstance(item, str) and len(item) > PREVIEW_CHARS:
        return item[:PREVIEW_CHARS]
    if isinstance(item, (list, dict)):
        return f"<{type(item).__name__} of {len(item)}>"
    return item

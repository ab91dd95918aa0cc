"""jobs.params_summary: what lists and pages show instead of large params."""

from jobs.params_summary import INLINE_CHARS, INLINE_ITEMS, describe, is_large, summarize


def test_short_values_are_kept_and_lists_described():
    summary = summarize({"texts": ["a b", "c" * 200, "d", "e"], "top": 10, "name": "x" * 100})

    assert summary == {
        "texts": {"items": 4, "chars": 205, "first": ["a b", "c" * 80, "d"]},
        "top": 10,
        "name": {"chars": 100, "first": "x" * 80},
    }


def test_a_list_of_numbers_has_no_character_count():
    assert summarize({"values": [1.0, 2.0]}) == {"values": {"items": 2, "first": [1.0, 2.0]}}


def test_params_are_large_past_the_inline_items_or_characters():
    assert not is_large(summarize({"values": [0.0] * INLINE_ITEMS}))
    assert is_large(summarize({"values": [0.0] * (INLINE_ITEMS + 1)}))
    assert not is_large(summarize({"texts": ["a" * INLINE_CHARS]}))
    assert is_large(summarize({"texts": ["a" * INLINE_CHARS, "b"]}))


def test_it_describes_a_summary_in_one_line_for_pages():
    summary = summarize({"texts": ["a b", "c"], "top": 10, "values": [1.0] * 12_345})

    assert describe(summary) == "texts: 2 items (4 chars); top: 10; values: 12,345 items"

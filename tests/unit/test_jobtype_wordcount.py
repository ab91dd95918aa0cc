from functools import partial
import inspect
import json
import random
import re
from collections import Counter

import pytest

from jobs import registry
from jobs.jobtypes.wordcount import WordCount
from jobs.registry import SubtaskContext
from tests.unit import jobtype_harness
from tests.unit.jobtype_harness import roundtrip

clean = partial(jobtype_harness.clean, "wordcount")
run_job = partial(jobtype_harness.run_job, "wordcount")


def reference(texts, top):
    counts = Counter(word for text in texts for word in re.findall(r"\w+", text.lower()))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return {
        "total_words": sum(counts.values()),
        "unique_words": len(counts),
        "top": [[word, count] for word, count in ranked[:top]],
    }


def random_texts(count, seed=0):
    rng = random.Random(seed)
    vocabulary = ["alpha", "Beta", "gamma", "delta", "ÉPÉE", "x_1", "42", "don't", "zeta"]
    return [
        " ".join(rng.choice(vocabulary) for _ in range(rng.randint(1, 30)))
        + rng.choice([".", "!", ""])
        for _ in range(count)
    ]


def test_it_is_registered_on_the_default_queue():
    jobtype = registry.get("wordcount")
    assert isinstance(jobtype, WordCount)
    assert jobtype.queue == "default"
    assert jobtype.description


def test_it_counts_words_case_insensitively():
    result = run_job({"texts": ["The cat, the HAT.", "the end"]})
    assert result == {
        "total_words": 6,
        "unique_words": 4,
        "top": [["the", 3], ["cat", 1], ["end", 1], ["hat", 1]],
    }


def test_it_splits_words_on_non_word_characters():
    result = run_job({"texts": ["don't stop_now 3.14 café"]})
    assert sorted(word for word, _ in result["top"]) == ["14", "3", "café", "don", "stop_now", "t"]


def test_it_breaks_ties_by_word_ascending():
    result = run_job({"texts": ["pear apple fig", "fig pear apple", "kiwi"]})
    assert result["top"] == [["apple", 2], ["fig", 2], ["pear", 2], ["kiwi", 1]]


def test_it_reports_only_the_top_words():
    result = run_job({"texts": ["a a a b b c d"], "top": 2})
    assert result == {"total_words": 7, "unique_words": 4, "top": [["a", 3], ["b", 2]]}


@pytest.mark.parametrize("chunk_size", [1, 3, 10, 250, 1000])
def test_it_matches_a_single_counter_over_all_texts(chunk_size):
    texts = random_texts(250)
    result = run_job({"texts": texts, "top": 1000, "chunk_size": chunk_size})
    assert result == reference(texts, 1000)


def test_it_matches_a_single_counter_for_the_default_top():
    texts = random_texts(40, seed=7)
    assert run_job({"texts": texts}) == reference(texts, 10)


def test_split_is_a_generator():
    assert inspect.isgenerator(registry.get("wordcount").split(clean({"texts": ["a"]})))


def test_it_puts_chunk_size_texts_in_each_payload():
    payloads = list(
        registry.get("wordcount").split(clean({"texts": list("abcde"), "chunk_size": 2}))
    )
    assert [payload["texts"] for payload in payloads] == [["a", "b"], ["c", "d"], ["e"]]


def test_it_makes_one_payload_when_chunk_size_exceeds_the_texts():
    payloads = list(registry.get("wordcount").split(clean({"texts": ["a", "b"], "chunk_size": 50})))
    assert [payload["texts"] for payload in payloads] == [["a", "b"]]


def test_it_makes_one_payload_per_text_with_chunk_size_1():
    payloads = list(
        registry.get("wordcount").split(clean({"texts": ["a", "b", "c"], "chunk_size": 1}))
    )
    assert [payload["texts"] for payload in payloads] == [["a"], ["b"], ["c"]]


def test_form_applies_defaults():
    assert clean({"texts": ["a"]}) == {"texts": ["a"], "top": 10, "chunk_size": 10}
    assert clean({"texts": ["a"], "top": "", "chunk_size": None})["top"] == 10


def test_form_reads_one_text_per_line_from_text_input():
    cleaned = clean({"texts": "first text\n\nsecond text\n", "top": "3", "chunk_size": "5"})
    assert cleaned == {"texts": ["first text", "second text"], "top": 3, "chunk_size": 5}


@pytest.mark.parametrize(
    "params, field, message",
    [
        ({}, "texts", "This field is required."),
        ({"texts": []}, "texts", "This field is required."),
        ({"texts": ["ok", 5]}, "texts", "Item 1: Enter text."),
        ({"texts": [5]}, "texts", "Item 0: Enter text."),
        ({"texts": {"a": 1}}, "texts", "Enter a list."),
        ({"texts": ["a"], "top": 0}, "top", "Ensure this value is greater than or equal to 1."),
        ({"texts": ["a"], "top": 1001}, "top", "Ensure this value is less than or equal to 1000."),
        ({"texts": ["a"], "top": "ten"}, "top", "Enter a whole number."),
        ({"texts": ["a"], "top": True}, "top", "Enter a whole number."),
        ({"texts": ["a"], "top": 2.5}, "top", "Enter a whole number."),
        (
            {"texts": ["a"], "chunk_size": 0},
            "chunk_size",
            "Ensure this value is greater than or equal to 1.",
        ),
    ],
)
def test_form_rejects_bad_params(params, field, message):
    form = WordCount.params_form(data=params)
    assert not form.is_valid()
    assert form.errors[field] == [message]


def test_empty_and_blank_texts_are_documents_without_words():
    # Issue 8.15: this corpus was refused with "Item 0: This field is required".
    assert run_job({"texts": ["", "   ", "a b"], "top": 5}) == {
        "total_words": 2,
        "unique_words": 2,
        "top": [["a", 1], ["b", 1]],
    }


def test_a_text_with_a_lone_surrogate_is_refused_by_the_form_too():
    # The CLI and the web form reach the form without the API's body check.
    form = WordCount.params_form(data={"texts": ["a \ud800 b"]})

    assert not form.is_valid()
    assert form.errors["texts"] == ["Item 0: The text contains \\ud800, a lone UTF-16 surrogate: not text that UTF-8 can encode."]


def test_a_text_param_nested_too_deeply_is_refused_not_a_recursion_error():
    form = WordCount.params_form(data={"texts": "[" * 100_000})

    assert not form.is_valid()
    assert form.errors["texts"][0].startswith("Not a valid JSON list:")

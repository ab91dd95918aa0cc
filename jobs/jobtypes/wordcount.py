"""Word count: the most frequent words across many texts."""

import heapq
import re
from collections import Counter

from jobs.fields import ListField, StrictIntegerField, TextField
from jobs.jobtypes._defaults import ParamsForm
from jobs.registry import JobType, register


#: Per-request caps (issue 9.3). A subtask's work grows with its characters, so the
#: total bounds it too. Characters outside the basic plane (emoji) cost the most: 4 bytes
#: in the body, 12 as stored JSON (an escaped surrogate pair). 3 M of them took a web
#: process to 384 MiB; 2 M characters of any kind stay under the ~300 MB figure.
MAX_TEXTS = 100_000
MAX_CHARS = 2_000_000


class WordCountParams(ParamsForm):
    texts = ListField(
        # Empty texts are documents with no words (issue 8.15), so an item may be blank.
        TextField(required=False, strip=False),
        max_items=MAX_TEXTS,
        max_chars=MAX_CHARS,
        help_text="The texts: a JSON list of strings (API), or one text per line (form and CLI).",
    )
    top = StrictIntegerField(
        required=False,
        initial=10,
        min_value=1,
        max_value=1000,
        help_text="How many of the most frequent words to report.",
    )
    chunk_size = StrictIntegerField(
        required=False, initial=10, min_value=1, max_value=MAX_TEXTS, help_text="Texts per subtask."
    )


@register
class WordCount(JobType):
    name = "wordcount"
    description = "Counts the words in a list of texts and reports the most frequent ones."
    queue = "default"
    params_form = WordCountParams

    def split(self, params):
        texts, size = params["texts"], params["chunk_size"]
        for lo in range(0, len(texts), size):
            yield {"texts": texts[lo : lo + size]}

    def process(self, payload, ctx):
        counts = Counter()
        for text in payload["texts"]:
            counts.update(re.findall(r"\w+", text.lower()))
        return dict(counts)

    def combine(self, partials, params):
        counts = Counter()
        for partial in partials:
            counts.update(partial)
        # Same order as sorting everything, without sorting every word.
        most = heapq.nsmallest(params["top"], counts.items(), key=lambda item: (-item[1], item[0]))
        return {
            "total_words": counts.total(),
            "unique_words": len(counts),
            "top": [[word, count] for word, count in most],
        }

"""Stats: count, sum, mean, min, max and sample standard deviation of many numbers.

Each subtask summarises its chunk as (count, mean, M2), M2 being the sum of squared
deviations from the chunk's mean. Summaries merge pairwise (Chan et al.), so the
values themselves never travel to one place.
"""

import math

from jobs.fields import ListField, NumberField, StrictIntegerField
from jobs.jobtypes._defaults import ParamsForm
from jobs.registry import JobType, register


#: Per-request cap (issue 9.3): 500,000 numbers are at most 12.5 MB of JSON (within
#: LEPTON_MAX_REQUEST_BYTES), and the web process that accepts them stays under its
#: documented ~300 MB; a million peaked at 311 MiB.
MAX_VALUES = 500_000


class StatsParams(ParamsForm):
    values = ListField(
        NumberField(),
        separator=r"[\s,]+",
        max_items=MAX_VALUES,
        help_text="The numbers: a JSON list of numbers (API), or numbers separated by commas or spaces (form and CLI).",
    )
    chunk_size = StrictIntegerField(
        required=False, initial=10_000, min_value=1, max_value=MAX_VALUES, help_text="Numbers per subtask."
    )


@register
class Stats(JobType):
    name = "stats"
    description = "Summarises a list of numbers: count, sum, mean, min, max and standard deviation."
    queue = "default"
    params_form = StatsParams

    def split(self, params):
        values, size = params["values"], params["chunk_size"]
        for lo in range(0, len(values), size):
            yield {"values": values[lo : lo + size]}

    def process(self, payload, ctx):
        values = payload["values"]
        total = math.fsum(values)
        mean = total / len(values)
        return {
            "count": len(values),
            "sum": total,
            "mean": mean,
            "m2": math.fsum((value - mean) ** 2 for value in values),
            "min": min(values),
            "max": max(values),
        }

    def combine(self, partials, params):
        count, total, mean, m2 = 0, 0.0, 0.0, 0.0
        low = high = None
        for partial in partials:
            merged = count + partial["count"]
            delta = partial["mean"] - mean
            mean += delta * partial["count"] / merged
            m2 += partial["m2"] + delta * delta * count * partial["count"] / merged
            count = merged
            total += partial["sum"]
            low = partial["min"] if low is None else min(low, partial["min"])
            high = partial["max"] if high is None else max(high, partial["max"])
        return {
            "count": count,
            "sum": total,
            "mean": mean,
            "min": low,
            "max": high,
            "stdev": math.sqrt(m2 / (count - 1)) if count >= 2 else None,
        }

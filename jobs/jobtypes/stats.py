"""Stats: count, sum, mean, min, max and sample standard deviation of many numbers.

Each subtask summarises its chunk as (count, mean, M2), M2 being the sum of squared
deviations from the chunk's mean. Summaries merge pairwise (Chan et al.), so the
values themselves never travel to one place.

Floats near ±1e308 overflow on the way (a square, a sum, `delta * delta * n`) and a
NaN would follow from `inf * 0`. So each chunk is summarised in units of 2**scale, its
largest magnitude's binary exponent: scaled values lie within ±1, their squares and
sums cannot overflow, and tiny magnitudes (1e-300) do not underflow either. The merge
works at the largest scale seen. Only the final figures are scaled back: mean, min and
max always fit a float; a sum beyond the float range is reported as null, and a
standard deviation beyond it is a clear error rather than `inf`.
"""

import math

from jobs.fields import ListField, NumberField, StrictIntegerField
from jobs.jobtypes._defaults import ParamsForm
from jobs.registry import JobType, PermanentError, register


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
    description = (
        "Summarises a list of numbers: count, sum, mean, min, max and standard deviation "
        "(sum is null when it is beyond the float range)."
    )
    queue = "default"
    params_form = StatsParams

    def split(self, params):
        values, size = params["values"], params["chunk_size"]
        for lo in range(0, len(values), size):
            yield {"values": values[lo : lo + size]}

    def process(self, payload, ctx):
        values = payload["values"]
        scale = _exponent(max(map(abs, values)))
        scaled = [math.ldexp(value, -scale) for value in values]
        total = math.fsum(scaled)
        mean = total / len(scaled)
        return {
            "count": len(values),
            "scale": scale,
            "sum": total,
            "mean": mean,
            "m2": math.fsum((value - mean) ** 2 for value in scaled),
            "min": min(values),
            "max": max(values),
        }

    def combine(self, partials, params):
        count, scale, total, mean, m2 = 0, None, 0.0, 0.0, 0.0
        low = high = None
        for partial in partials:
            # Partials written before scaling existed have no "scale": they are unscaled.
            part_scale = partial.get("scale", 0)
            if scale is None or part_scale > scale:
                if scale is not None:
                    total, mean, m2 = _rescale(total, mean, m2, scale - part_scale)
                scale = part_scale
            part_sum, part_mean, part_m2 = _rescale(
                partial["sum"], partial["mean"], partial["m2"], part_scale - scale
            )
            merged = count + partial["count"]
            delta = part_mean - mean
            mean += delta * partial["count"] / merged
            m2 += part_m2 + delta * delta * (count / merged) * partial["count"]
            count = merged
            total += part_sum
            low = partial["min"] if low is None else min(low, partial["min"])
            high = partial["max"] if high is None else max(high, partial["max"])
        scale = scale or 0
        return {
            "count": count,
            "sum": _unscale_or_none(total, scale),
            "mean": math.ldexp(mean, scale),
            "min": low,
            "max": high,
            "stdev": _stdev(m2, count, scale),
        }


def _exponent(magnitude):
    """The binary exponent e with magnitude < 2**e (0 for zero)."""
    return math.frexp(magnitude)[1] if magnitude else 0


def _rescale(total, mean, m2, shift):
    """A summary in units of 2**s expressed in units of 2**(s - shift) (shift <= 0)."""
    return math.ldexp(total, shift), math.ldexp(mean, shift), math.ldexp(m2, 2 * shift)


def _unscale_or_none(value, scale):
    try:
        return math.ldexp(value, scale)
    except OverflowError:
        return None


def _stdev(m2, count, scale):
    if count < 2:
        return None
    try:
        return math.ldexp(math.sqrt(m2 / (count - 1)), scale)
    except OverflowError:
        raise PermanentError(
            "the standard deviation is beyond the largest float (about 1.8e308)"
        ) from None

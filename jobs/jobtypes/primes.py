"""Primes: count the primes in a range, in parallel. The CPU-bound benchmark workload."""

import math
from itertools import compress

from jobs.fields import StrictIntegerField
from jobs.jobtypes._defaults import ParamsForm
from jobs.registry import JobType, register


#: A subtask sieves the primes up to sqrt(end) (sqrt(MAX_END) = 10**6: 1 MB and 78,498
#: primes) and then its chunk (one byte per number): so its memory and time are bounded by
#: these two caps wherever the range lies. Unbounded, end=10**17 took 1.1 GiB (issue 9.1).
MAX_END = 10**12
MAX_CHUNK = 10_000_000


class PrimesParams(ParamsForm):
    start = StrictIntegerField(min_value=0, max_value=MAX_END - 1, help_text="First number of the range.")
    end = StrictIntegerField(max_value=MAX_END, help_text="End of the range (not included).")
    chunk_size = StrictIntegerField(
        required=False,
        initial=100_000,
        min_value=1,
        max_value=MAX_CHUNK,
        help_text="Numbers per subtask.",
    )

    def clean(self):
        cleaned_data = super().clean()
        start, end = cleaned_data.get("start"), cleaned_data.get("end")
        if start is not None and end is not None and end <= start:
            self.add_error("end", "End must be greater than start (the range excludes end).")
        return cleaned_data


def _primes_below(n):
    """All primes below n, by the sieve of Eratosthenes."""
    sieve = bytearray([1]) * max(n, 2)
    sieve[0] = sieve[1] = 0
    for p in range(2, math.isqrt(n - 1) + 1):
        if sieve[p]:
            sieve[p * p :: p] = bytes(len(range(p * p, n, p)))
    return list(compress(range(n), sieve[:n]))


def count_primes(lo, hi):
    """(count, largest) of the primes in [lo, hi), by a segmented sieve.

    Only the base primes up to sqrt(hi) are sieved from 0; the segment itself costs
    hi - lo bytes however far from 0 it lies.
    """
    lo = max(lo, 2)
    if hi <= lo:
        return 0, None
    segment = bytearray([1]) * (hi - lo)
    for p in _primes_below(math.isqrt(hi - 1) + 1):
        first = max(p * p, -(-lo // p) * p)  # first multiple of p that is >= lo
        segment[first - lo :: p] = bytes(len(range(first, hi, p)))
    count = segment.count(1)
    return count, (lo + segment.rindex(1) if count else None)


@register
class Primes(JobType):
    name = "primes"
    description = "Counts the prime numbers in a range and finds the largest one."
    queue = "cpu"
    params_form = PrimesParams

    def split(self, params):
        start, end, size = params["start"], params["end"], params["chunk_size"]
        for lo in range(start, end, size):
            yield {"lo": lo, "hi": min(lo + size, end)}

    def process(self, payload, ctx):
        count, largest = count_primes(payload["lo"], payload["hi"])
        return {"count": count, "largest": largest}

    def combine(self, partials, params):
        count, largest = 0, None
        for partial in partials:
            count += partial["count"]
            # Partials come in range order, so the last prime found is the largest.
            if partial["largest"] is not None:
                largest = partial["largest"]
        return {"count": count, "largest": largest}

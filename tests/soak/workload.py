"""The soak's jobs: a seeded random mix of every built-in job type, edge inputs included,
and what each job should end as, computed in this process from the job type's own code.
"""

import json
import math
import random
import statistics
import string
from dataclasses import dataclass

from jobs import registry
from jobs.registry import SubtaskContext

PRIORITIES = ("high", "normal", "normal", "normal", "low")
WORDS = ["the", "cat", "dog", "a", "lepton", "job", "queue", "Ünïcode", "x1", "_"]

#: Edge inputs, drawn now and then among the ordinary ones: empty and blank texts, one
#: item, huge and tiny magnitudes, sums that overflow a float, many subtasks.
EDGE_CASES = [
    ("wordcount", {"texts": ["", "   ", "a b"], "top": 2}),
    ("wordcount", {"texts": ["one"]}),
    ("wordcount", {"texts": ["the cat"] * 150, "chunk_size": 1, "top": 3}),
    ("primes", {"start": 0, "end": 1}),
    ("primes", {"start": 999_983, "end": 999_984}),
    ("primes", {"start": 0, "end": 150_000, "chunk_size": 1_000}),
    ("stats", {"values": [1e300, 1e300, -1e300]}),
    ("stats", {"values": [1e200, 1e200]}),
    ("stats", {"values": [1.7e308, 1.7e308], "chunk_size": 1}),
    ("stats", {"values": [5e-324, 1e-320, -5e-324]}),
    ("stats", {"values": [42]}),
    ("stats", {"values": list(range(300)), "chunk_size": 1}),
    ("diagnostic", {"subtasks": 1}),
    ("diagnostic", {"subtasks": 1500}),
    ("diagnostic", {"subtasks": 4, "sleep_ms": 4000}),
]


@dataclass(frozen=True)
class Expectation:
    """What a job should end as: `result` if it succeeds; `must_fail` when its answer
    cannot be computed or stored as JSON; `may_fail` when it injects its own faults."""

    result: object = None
    must_fail: bool = False
    may_fail: bool = False
    why: str = ""


class JobStream:
    """The soak's jobs in a seeded order: every edge case once first (so even a short
    soak submits each), then ordinary jobs with an edge case now and then."""

    def __init__(self, rng):
        self.rng = rng
        self._opening = rng.sample(EDGE_CASES, len(EDGE_CASES))

    def next(self):
        """(type, params, priority) of the next job."""
        if self._opening:
            type_name, params = self._opening.pop(0)
        elif self.rng.random() < 0.1:
            type_name, params = self.rng.choice(EDGE_CASES)
        else:
            type_name = self.rng.choice(["wordcount", "primes", "stats", "diagnostic", "diagnostic"])
            params = _ORDINARY[type_name](self.rng)
        return type_name, dict(params), self.rng.choice(PRIORITIES)


def _wordcount(rng):
    texts = [
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 30)))
        + rng.choice(["", ".", "!", " " + "".join(rng.choices(string.ascii_lowercase, k=5))])
        for _ in range(rng.randint(1, 60))
    ]
    return {"texts": texts, "top": rng.randint(1, 8), "chunk_size": rng.randint(1, 12)}


def _primes(rng):
    start = rng.randint(0, 2_000_000)
    return {"start": start, "end": start + rng.randint(1, 400_000), "chunk_size": rng.choice([5_000, 20_000, 100_000])}


def _stats(rng):
    scale = rng.choice([1.0, 1e6, 1e-6, 1e150])
    values = [rng.uniform(-1, 1) * scale for _ in range(rng.randint(1, 3000))]
    return {"values": values, "chunk_size": rng.choice([1, 50, 500, 10_000])}


def _diagnostic(rng):
    sleep_ms = rng.choice([0, 0, 50, 300, 1500, 3000])
    # Long subtasks are the ones faults hit mid-run; few of them keep a job's length bounded.
    params = {"subtasks": rng.randint(1, 8 if sleep_ms >= 1500 else 80), "sleep_ms": sleep_ms}
    roll = rng.random()
    if roll < 0.15:
        params.update(fail_rate=0.25, fail_mode="transient", seed=rng.randint(0, 10**6))
    elif roll < 0.25:
        params.update(fail_rate=0.05, fail_mode="permanent", seed=rng.randint(0, 10**6))
    return params


_ORDINARY = {"wordcount": _wordcount, "primes": _primes, "stats": _stats, "diagnostic": _diagnostic}


def expected_outcome(type_name, params):
    """Run the job type's split, process and combine here, one process, no faults.

    `params` are the cleaned params as the job stored them. A diagnostic job's sleeps and
    injected faults do not change its answer, so the reference skips them; the job itself
    may fail when it injects faults.
    """
    job_type = registry.get(type_name)
    may_fail = False
    if type_name == "diagnostic":
        may_fail = params.get("fail_rate", 0) > 0
        params = {**params, "sleep_ms": 0, "fail_rate": 0}
    try:
        partials = [
            job_type.process(payload, SubtaskContext(job_id=0, index=index, attempt=1))
            for index, payload in enumerate(job_type.split(params))
        ]
        result = json.loads(json.dumps(job_type.combine(partials, params), allow_nan=False))
    except (ArithmeticError, ValueError, TypeError) as exc:
        return Expectation(must_fail=True, why=f"reference raised {exc!r}")
    return Expectation(result=result, may_fail=may_fail)


def new_rng(seed, stream):
    """An independent seeded stream per concern, so adding a job does not shift the faults."""
    return random.Random(f"{seed}:{stream}")


#: Relative difference allowed between a stats result and the statistics module: the
#: pairwise merge rounds differently from statistics' exact arithmetic.
STATS_REL_TOL = 1e-9


def stats_disagreements(values, result):
    """Fields of a stats result that differ from Python's `statistics` (issue 8, case 1:
    stats must be right wherever statistics is). Empty where statistics itself overflows."""
    try:
        truth = {
            "count": len(values),
            "mean": statistics.mean(values),
            "min": min(values),
            "max": max(values),
            "stdev": statistics.stdev(values) if len(values) >= 2 else None,
        }
    except (ArithmeticError, ValueError):
        return []
    if any(isinstance(value, float) and not math.isfinite(value) for value in truth.values()):
        return []
    return [
        f"{name} {result.get(name)!r} != statistics' {expected!r}"
        for name, expected in truth.items()
        if not _close(result.get(name), expected)
    ]


def _close(actual, expected):
    if isinstance(expected, float) and isinstance(actual, (int, float)):
        return math.isclose(actual, expected, rel_tol=STATS_REL_TOL, abs_tol=0.0)
    return actual == expected

"""Diagnostic: deterministic synthetic load and faults, for operators, tests and benchmarks.

Whether a subtask fails is a pure function of (seed, index, attempt), so a run can be
repeated exactly: the same seed fails the same subtasks, on every worker.
"""

import random
import time

from django import forms

from jobs.fields import NumberField, StrictIntegerField
from jobs.jobtypes._defaults import ParamsForm
from jobs.registry import JobType, PermanentError, TransientError, register

#: The attempt number a subtask's first run gets; permanent faults always roll as this one.
FIRST_ATTEMPT = 1


class DiagnosticParams(ParamsForm):
    subtasks = StrictIntegerField(min_value=1, max_value=100_000)
    sleep_ms = StrictIntegerField(
        required=False,
        initial=0,
        min_value=0,
        max_value=600_000,
        help_text="How long each subtask sleeps, in milliseconds.",
    )
    fail_rate = NumberField(
        required=False,
        initial=0.0,
        min_value=0,
        max_value=1,
        help_text="Chance that a subtask attempt fails, from 0 to 1.",
    )
    fail_mode = forms.ChoiceField(
        required=False,
        initial="transient",
        choices=[("transient", "transient (retried)"), ("permanent", "permanent (not retried)")],
    )
    seed = StrictIntegerField(
        required=False, initial=0, help_text="The same seed gives the same faults."
    )


@register
class Diagnostic(JobType):
    name = "diagnostic"
    description = (
        "Runs synthetic subtasks that sleep and fail on purpose, to test and measure the platform."
    )
    queue = "default"
    params_form = DiagnosticParams
    # 9 attempts in all: at fail_rate 0.2 a subtask fails every one with probability
    # 0.2**9 ≈ 5e-7, so even a 10,000-subtask job succeeds with probability > 0.99.
    max_retries = 8

    def split(self, params):
        for index in range(params["subtasks"]):
            yield {
                "index": index,
                "sleep_ms": params["sleep_ms"],
                "fail_rate": params["fail_rate"],
                "fail_mode": params["fail_mode"],
                "seed": params["seed"],
            }

    def process(self, payload, ctx):
        if payload["sleep_ms"]:
            # Not sleep(0): it gives up the CPU, and a no-op subtask then waits its turn
            # behind every other runnable process.
            time.sleep(payload["sleep_ms"] / 1000)
        index = payload["index"]
        permanent = payload["fail_mode"] == "permanent"
        # A transient fault is re-rolled on each attempt, so retries can get past it;
        # a permanent one rolls as the first attempt every time, so it always recurs.
        attempt = FIRST_ATTEMPT if permanent else ctx.attempt
        if random.Random(f"{payload['seed']}:{index}:{attempt}").random() < payload["fail_rate"]:
            if permanent:
                raise PermanentError(f"diagnostic permanent fault in subtask {index}")
            raise TransientError(
                f"diagnostic transient fault in subtask {index}, attempt {attempt}"
            )
        return index

    def combine(self, partials, params):
        count = index_sum = 0
        for index in partials:
            count += 1
            index_sum += index
        return {"subtasks": count, "index_sum": index_sum}

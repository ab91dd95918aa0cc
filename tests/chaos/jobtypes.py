"""Test-only job types for the chaos suite, loaded into its processes with
LEPTON_JOB_TYPE_MODULES=tests.chaos.jobtypes."""

import logging
import os
import time

from jobs.fields import NumberField, StrictIntegerField
from jobs.jobtypes._defaults import ParamsForm
from jobs.jobtypes.diagnostic import Diagnostic, DiagnosticParams
from jobs.registry import JobType, PermanentError, TransientError, register

log = logging.getLogger(__name__)


class SlowCombineParams(DiagnosticParams):
    combine_seconds = NumberField(
        min_value=0, max_value=600, help_text="How long the combine step sleeps before combining."
    )


@register
class SlowCombine(Diagnostic):
    """Diagnostic subtasks and result, with a combine step slow enough to kill a worker in it."""

    name = "chaos_slow_combine"
    description = "Diagnostic work whose combine step sleeps first; for killing a worker mid-combine."
    params_form = SlowCombineParams

    def combine(self, partials, params):
        # In the worker's log: how a test tells which worker to kill.
        log.warning("event=chaos_combine_started pid=%d", os.getpid())
        time.sleep(params["combine_seconds"])
        return super().combine(partials, params)


class FailFastParams(ParamsForm):
    subtasks = StrictIntegerField(min_value=2, max_value=100)
    sleep_ms = StrictIntegerField(min_value=0, max_value=60_000)


@register
class FailFast(JobType):
    """Subtask 0 fails for good half way through; the others are still running then, and
    fail transiently at the end: after their job has failed."""

    name = "chaos_fail_fast"
    description = "One subtask fails the job while the others run on, then fail transiently."
    params_form = FailFastParams

    def split(self, params):
        for index in range(params["subtasks"]):
            yield {"index": index, "sleep_ms": params["sleep_ms"]}

    def process(self, payload, ctx):
        if payload["index"] == 0:
            time.sleep(payload["sleep_ms"] / 2000)
            raise PermanentError("chaos: subtask 0 fails for good")
        time.sleep(payload["sleep_ms"] / 1000)
        raise TransientError(f"chaos: subtask {payload['index']} fails, worth a retry")

"""Test-only job types, loaded into test workers with LEPTON_JOB_TYPE_MODULES."""

import os

from jobs.jobtypes.diagnostic import Diagnostic
from jobs.registry import PermanentError, TransientError, register


@register
class FlakyWorker(Diagnostic):
    """Diagnostic work that fails on any worker started with LEPTON_TEST_FAULTY=1."""

    name = "flaky_worker"
    description = "Fails every attempt on a faulty worker, succeeds elsewhere."

    def process(self, payload, ctx):
        if os.environ.get("LEPTON_TEST_FAULTY") == "1":
            raise TransientError("this worker is faulty")
        return super().process(payload, ctx)


@register
class FailsOnce(Diagnostic):
    """Diagnostic work whose subtask 0 fails permanently on its first attempt only."""

    name = "fails_once"
    description = "Subtask 0 fails its first attempt; a retried job succeeds."

    def process(self, payload, ctx):
        if ctx.index == 0 and ctx.attempt == 1:
            raise PermanentError("first attempt of subtask 0")
        return super().process(payload, ctx)


@register
class TimeLimited(Diagnostic):
    """Diagnostic work under a one-second time limit."""

    name = "time_limited"
    description = "Diagnostic subtasks that may run one second each."
    time_limit = 1.0

"""Test-only job types, loaded into test workers with LEPTON_JOB_TYPE_MODULES."""

import os
import threading
import time

from django.db import connection

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


class _Opaque:
    def __repr__(self):
        return "<an opaque object>"


#: What `unstorable` returns, by the `seed` param (diagnostic's params, reused).
UNSTORABLE = {
    0: lambda: float("nan"),
    1: lambda: {"total": float("inf")},
    2: lambda: {"words": {"a", "b"}},
    3: lambda: [b"raw bytes"],
    4: lambda: {"thing": _Opaque()},
}


@register
class Unstorable(Diagnostic):
    """Subtasks whose partial cannot be stored as JSON (which kind: the `seed` param)."""

    name = "unstorable"
    description = "Returns NaN, inf, a set, bytes or an object as its partial."

    def process(self, payload, ctx):
        return UNSTORABLE[payload["seed"]]()


@register
class UnstorableResult(Diagnostic):
    """A combine step whose result cannot be stored as JSON."""

    name = "unstorable_result"
    description = "Combines to NaN."

    def combine(self, partials, params):
        list(partials)
        return {"mean": float("nan")}


@register
class SlowCombine(Diagnostic):
    """Subtasks under a 2 s limit, a combine that takes 1.5 s under its own limit."""

    name = "slow_combine"
    description = "1 s subtasks with a 2 s limit; a 1.5 s combine."
    time_limit = 2.0
    combine_time_limit = 20.0

    def combine(self, partials, params):
        time.sleep(1.5)
        return super().combine(partials, params)


@register
class Waits(Diagnostic):
    """Diagnostic work that waits on an Event instead of time.sleep: under libfaketime
    (the skewed-clock test) time.sleep fails with EINVAL, an Event's timed wait does not."""

    name = "waits"
    description = "Subtasks that wait sleep_ms without time.sleep."

    def process(self, payload, ctx):
        threading.Event().wait(payload["sleep_ms"] / 1000)
        return payload["index"]


@register
class SessionSettings(Diagnostic):
    """Each subtask reports its worker's database session limit on idle transactions
    (jobs.sessions); the result is the distinct values seen."""

    name = "session_settings"
    description = "Reports the workers' idle_in_transaction_session_timeout."

    def process(self, payload, ctx):
        with connection.cursor() as cursor:
            cursor.execute("SHOW idle_in_transaction_session_timeout")
            return cursor.fetchone()[0]

    def combine(self, partials, params):
        return sorted(set(partials))

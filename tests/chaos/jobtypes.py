"""Test-only job types for the chaos suite, loaded into its processes with
LEPTON_JOB_TYPE_MODULES=tests.chaos.jobtypes (and into the test process by a fixture)."""

import logging
import os
import time

from jobs.fields import NumberField
from jobs.jobtypes.diagnostic import Diagnostic, DiagnosticParams
from jobs.registry import register

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

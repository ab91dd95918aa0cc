"""Canary: the smallest real job, submitted by the platform itself to every job queue.

Monitoring submits it on a schedule (monitoring.canary) with the queue chosen per run, so
a queue no built-in type routes to (`io`) is measured too. One subtask that echoes its
payload: what it measures is the platform (submit, dispatch, claim, record, combine), not
the work.
"""

from django import forms

from jobs.registry import JobType, register


class CanaryParams(forms.Form):
    token = forms.CharField(max_length=64)


@register
class Canary(JobType):
    name = "canary"
    description = "Platform self-test: one tiny subtask; submitted by Lepton's canary."
    queue = "default"
    params_form = CanaryParams
    max_retries = 0
    internal = True

    def split(self, params):
        yield {"token": params["token"]}

    def process(self, payload, ctx):
        return payload["token"]

    def combine(self, partials, params):
        return {"token": next(iter(partials), None)}

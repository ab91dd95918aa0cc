"""The job's hand-built representation (jobs.api.serializers) is DRF's own, field for field."""

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from jobs.api.serializers import JobListSerializer, JobSerializer
from jobs.models import Job, Subtask
from jobs.waiting import count_waiting


def drf_and_ours(serializer_class, job):
    request = Request(APIRequestFactory().get("/api/jobs/"))
    serializer = serializer_class(job, context={"request": request})
    return serializers.ModelSerializer.to_representation(serializer, job), serializer.data


def read(job):
    return count_waiting(Job.objects.select_related("input").defer("input__params").get(pk=job.pk))


@pytest.mark.parametrize("serializer_class", [JobSerializer, JobListSerializer])
@pytest.mark.parametrize(
    "state",
    [
        {},
        {"status": "running", "done": 2, "failed": 1},
        {"status": "succeeded", "done": 5, "result": {"subtasks": 5, "index_sum": 10}},
        {"status": "failed", "failed": 1, "error": "subtask 0 failed: ValueError: no"},
        {"status": "canceled", "error": "", "result": [1, 2.5, "x", None]},
    ],
)
def test_each_field_is_as_drf_renders_it(make_job, serializer_class, state):
    job = make_job(params={"subtasks": 5})
    stamps = {"started_at": timezone.now()} if state.get("status") else {}
    if state.get("status") in Job.FINAL:
        stamps["finished_at"] = timezone.now()
    Job.objects.filter(pk=job.pk).update(**state, **stamps)
    Subtask.objects.filter(job=job, index=0).update(status="running")

    drf, ours = drf_and_ours(serializer_class, read(job))

    assert list(ours) == serializer_class.Meta.fields
    assert ours == drf


def test_large_params_are_left_out_as_drf_leaves_them(make_job):
    job = make_job("stats", {"values": list(range(20_000))})

    drf, ours = drf_and_ours(JobSerializer, read(job))

    assert ours["params"] is None and ours["params_summary"]["values"]["items"] == 20_000
    assert ours == drf

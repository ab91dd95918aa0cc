"""The JSON API: thin views over `submit`, `control` and owner-scoped querysets.

Every object is looked up within the requesting user's own jobs, so another user's
job is a 404, never a 403 that would confirm it exists.
"""

from django.db.models import TextField
from django.db.models.functions import Cast
from django.http import Http404, HttpResponse
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from jobs import registry
from jobs.api.serializers import (
    JobListSerializer, JobSerializer, JobTypeSerializer, SubmitSerializer, SubtaskSerializer,
)
from jobs.control import cancel_job, delete_job, retry_admitted
from jobs.hot_sql import owned_job
from jobs.models import Job, JobParams
from jobs.restrictions import may_submit
from jobs.submit import submit_job
from jobs.waiting import count_waiting

#: The largest primary key either database stores (a 64-bit signed integer); a larger
#: number in a URL is no job's.
MAX_JOB_ID = 2**63 - 1
#: How a refusal names a job's state: "The job has succeeded", not "The job is succeeded".
STATE_PHRASES = {
    Job.Status.QUEUED: "is queued",
    Job.Status.RUNNING: "is running",
    Job.Status.FINALIZING: "is finalizing",
    Job.Status.SUCCEEDED: "has succeeded",
    Job.Status.FAILED: "has failed",
    Job.Status.CANCELED: "was canceled",
}


class JobViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    def get_serializer_class(self):
        return JobListSerializer if self.action == "list" else JobSerializer

    def get_queryset(self):
        # Params can be megabytes: read the summary, and the params only where shown.
        jobs = Job.objects.filter(owner=self.request.user).select_related("input").defer("input__params")
        if self.action != "list":
            return jobs
        jobs = jobs.with_running()
        wanted_status = self.request.query_params.get("status")
        if wanted_status:
            if wanted_status not in Job.Status.values:
                raise ValidationError({"status": [f"Must be one of {', '.join(Job.Status.values)}."]})
            jobs = jobs.filter(status=wanted_status)
        wanted_type = self.request.query_params.get("type")
        if wanted_type:
            # A type no longer installed still filters the jobs that were run as it.
            if registry.find(wanted_type) is None and not jobs.filter(type=wanted_type).exists():
                known = ", ".join(job_type.name for job_type in registry.all_types())
                raise ValidationError({"type": [f"Unknown job type {wanted_type!r}; known types: {known}."]})
            jobs = jobs.filter(type=wanted_type)
        return jobs

    def create(self, request):
        envelope = SubmitSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        data = envelope.validated_data
        job, created = submit_job(
            request.user, data["type"], data["params"], data["priority"], data.get("idempotency_key")
        )
        if created:
            # It carries its counts from the submission (jobs.submit).
            return Response(self._render(job), status=status.HTTP_201_CREATED)
        return Response(self._render(self._counted(job.pk)))

    def retrieve(self, request, pk=None):
        return Response(self._render(self._counted(pk)))

    def destroy(self, request, pk=None):
        job = self.get_object()
        if not delete_job(job.pk):
            return self._refusal(job, "only a finished job can be deleted; cancel it first.")
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        job = self.get_object()
        if not cancel_job(job.pk):
            return self._refusal(job, "only an active job can be canceled.")
        return Response(self._render(self._counted(job.pk)))

    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        job = self.get_object()
        retried = retry_admitted(job.pk)
        if not retried:
            return self._refusal(job, "only a failed job can be retried.")
        return Response(self._render(self._counted(job.pk)))

    @action(detail=True, methods=["get"])
    def params(self, request, pk=None):
        """The job's params as stored, as a JSON download, never parsed into this process."""
        job = self.get_object()
        raw = (
            JobParams.objects.filter(pk=job.pk)
            .annotate(text=Cast("params", TextField()))
            .values_list("text", flat=True)
            .get()
        )
        response = HttpResponse(raw, content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="job-{job.pk}-params.json"'
        return response

    @action(detail=True, methods=["get"])
    def subtasks(self, request, pk=None):
        page = self.paginate_queryset(self.get_object().subtasks.order_by("index"))
        return self.get_paginated_response(SubtaskSerializer(page, many=True).data)

    def _render(self, job):
        return JobSerializer(job, context=self.get_serializer_context()).data

    def _counted(self, pk):
        """The user's job `pk` as a poll of it reads it (jobs.hot_sql.owned_job), or 404."""
        job = owned_job(self.request.user.pk, _job_id(pk))
        if job is None:
            raise Http404
        self.check_object_permissions(self.request, job)
        return count_waiting(job)

    def _refusal(self, job, rule):
        """409 naming the job's state, read again: it may have moved since the lookup."""
        current = Job.objects.filter(pk=job.pk).values_list("status", flat=True).first() or job.status
        return Response(
            {"status": [f"The job {STATE_PHRASES[current]}; {rule}"]}, status=status.HTTP_409_CONFLICT
        )


def _job_id(pk):
    """The job id in a URL, or 404: as the ORM's lookup would, for what is no id."""
    try:
        job_id = int(pk)
    except ValueError:
        raise Http404 from None
    if not 0 < job_id <= MAX_JOB_ID:
        raise Http404
    return job_id


class JobTypeViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The job types the user may submit; restricted ones only for those allowed to."""

    serializer_class = JobTypeSerializer

    def get_queryset(self):
        return [job_type for job_type in registry.all_types() if may_submit(self.request.user, job_type.name)]

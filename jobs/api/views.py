"""The JSON API: thin views over `submit`, `control` and owner-scoped querysets.

Every object is looked up within the requesting user's own jobs, so another user's
job is a 404, never a 403 that would confirm it exists.
"""

from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from jobs import registry
from jobs.api.serializers import (
    JobDetailSerializer, JobSerializer, JobTypeSerializer, SubmitSerializer, SubtaskSerializer,
)
from jobs.control import cancel_job, retry_job
from jobs.models import Job
from jobs.submit import submit_job


class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = JobSerializer

    def get_serializer_class(self):
        # One job (detail, and the answers to submit/cancel/retry) says why it waits; the
        # list stays cheap.
        return JobSerializer if self.action == "list" else JobDetailSerializer

    def get_queryset(self):
        jobs = Job.objects.filter(owner=self.request.user).select_related("input").with_running()
        if self.action != "list":
            return jobs
        wanted_status = self.request.query_params.get("status")
        if wanted_status:
            if wanted_status not in Job.Status.values:
                raise ValidationError({"status": [f"Must be one of {', '.join(Job.Status.values)}."]})
            jobs = jobs.filter(status=wanted_status)
        wanted_type = self.request.query_params.get("type")
        if wanted_type:
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
            job.running = 0  # nothing of a job this new has started
            return Response(JobDetailSerializer(job).data, status=status.HTTP_201_CREATED)
        return Response(JobDetailSerializer(self.get_queryset().get(pk=job.pk)).data)

    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._change(cancel_job, "The job is already {status}; only an active job can be canceled.")

    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        return self._change(retry_job, "The job is {status}; only a failed job can be retried.")

    def _change(self, change, refusal):
        """Apply a control action to the job; 409 with the reason if its state forbids it."""
        job = self.get_object()
        if not change(job.pk):
            return Response({"status": [refusal.format(status=job.status)]}, status=status.HTTP_409_CONFLICT)
        return Response(JobDetailSerializer(self.get_queryset().get(pk=job.pk)).data)

    @action(detail=True, methods=["get"])
    def subtasks(self, request, pk=None):
        page = self.paginate_queryset(self.get_object().subtasks.order_by("index"))
        return self.get_paginated_response(SubtaskSerializer(page, many=True).data)


class JobTypeViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = JobTypeSerializer

    def get_queryset(self):
        return registry.all_types()

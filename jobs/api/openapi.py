"""The API contract: the OpenAPI 3 description of jobs/api/views.py, and the views serving it.

The annotations live here rather than on the views so the views stay a few lines each;
importing this module (lepton/urls.py does, to route /api/schema/ and /api/docs/) applies
them. Every endpoint documents its success body and each error it can answer with: 400
(an object naming each field at fault), 401, 404, 409, and 429 with Retry-After (both
admission control's refusal and the request throttle).
"""

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import serializers

from jobs.api.serializers import (
    JobListSerializer, JobSerializer, JobTypeSerializer, ParsedJSONField, SubmitSerializer, SubtaskSerializer,
)
from jobs.api.views import JobTypeViewSet, JobViewSet
from jobs.models import Job

# --- Error bodies ------------------------------------------------------------------

FIELD_ERRORS = {
    "type": "object",
    "description": (
        "Each key names a field at fault (`body` for the request body itself, "
        "`non_field_errors` for the combination); its value is a list of reasons, or for "
        "`params` an object of the same shape naming the parameter."
    ),
    "additionalProperties": {
        "oneOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        ]
    },
}

DETAIL = inline_serializer("Detail", {"detail": serializers.CharField()})

ADMISSION_REFUSED = inline_serializer(
    "AdmissionRefused",
    {
        "detail": serializers.CharField(),
        "limit": serializers.CharField(help_text="the setting whose limit was reached"),
        "value": serializers.IntegerField(help_text="that setting's value"),
    },
)

CONFLICT = inline_serializer(
    "Conflict",
    {"status": serializers.ListField(child=serializers.CharField(), help_text="why the job's state forbids it")},
)

#: Every endpoint is throttled, so every 429 carries this header.
RETRY_AFTER = OpenApiParameter(
    "Retry-After", OpenApiTypes.INT, OpenApiParameter.HEADER, response=[429],
    description="seconds to wait before trying again",
)

BAD_REQUEST = OpenApiResponse(
    FIELD_ERRORS, "Bad input: nothing was created.",
    examples=[
        OpenApiExample("unknown type", {"type": ["Unknown job type 'x'; known types: primes, ..."]}),
        OpenApiExample("bad parameter", {"params": {"end": ["End must be greater than start."]}}),
        OpenApiExample("not JSON", {"body": ["Not valid JSON: ..."]}),
    ],
)
UNAUTHENTICATED = OpenApiResponse(DETAIL, "No valid token or session.")
NOT_FOUND = OpenApiResponse(DETAIL, "No such job among yours.")
NO_SUCH_PAGE = OpenApiResponse(DETAIL, "No such page.")
THROTTLED = OpenApiResponse(DETAIL, "Too many requests (LEPTON_API_RATE); see Retry-After.")
ALWAYS = {401: UNAUTHENTICATED, 429: THROTTLED}


def _conflict(reason):
    return OpenApiResponse(CONFLICT, reason)


# --- Method fields the serializers compute ------------------------------------------

PROGRESS = inline_serializer(
    "Progress",
    {
        "total": serializers.IntegerField(),
        "done": serializers.IntegerField(),
        "failed": serializers.IntegerField(),
        "running": serializers.IntegerField(),
    },
)

PARAM_DESCRIPTION = inline_serializer(
    "ParamDescription",
    {
        "name": serializers.CharField(),
        "type": serializers.ChoiceField(["array", "boolean", "number", "integer", "string"]),
        "required": serializers.BooleanField(),
        "default": serializers.JSONField(required=False),
        "help": serializers.CharField(required=False),
        "minimum": serializers.FloatField(required=False),
        "maximum": serializers.FloatField(required=False),
        "choices": serializers.ListField(child=serializers.CharField(), required=False),
        "items": serializers.CharField(required=False, help_text="type of an array's items"),
    },
    many=True,
)

PARAMS = {"type": "object", "additionalProperties": True, "description": "the job type's params (see /api/job-types/)"}

extend_schema_field(PROGRESS)(JobListSerializer.get_progress)
extend_schema_field(OpenApiTypes.URI)(JobListSerializer.get_params_url)
extend_schema_field({**PARAMS, "nullable": True, "description": "the params; null when large (see params_url)"})(
    JobSerializer.get_params
)
extend_schema_field(OpenApiTypes.STR)(JobSerializer.get_waiting_reason)
extend_schema_field(OpenApiTypes.BOOL)(JobTypeSerializer.get_restricted)
extend_schema_field(PARAM_DESCRIPTION)(JobTypeSerializer.get_params)
extend_schema_field(PARAMS)(ParsedJSONField)


# --- The endpoints ------------------------------------------------------------------

JOB_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="the job's id")

extend_schema_view(
    list=extend_schema(
        summary="Your jobs, newest first",
        parameters=[
            OpenApiParameter("status", str, enum=Job.Status.values, description="only jobs in this status"),
            OpenApiParameter("type", str, description="only jobs of this type"),
            RETRY_AFTER,
        ],
        responses={200: JobListSerializer(many=True), 400: BAD_REQUEST, 404: NO_SUCH_PAGE, **ALWAYS},
    ),
    retrieve=extend_schema(
        summary="One job: status, progress, result", parameters=[JOB_ID, RETRY_AFTER],
        responses={200: JobSerializer, 404: NOT_FOUND, **ALWAYS},
    ),
    create=extend_schema(
        summary="Submit a job",
        description=(
            "201 with the new job. The same `idempotency_key` again returns the first job "
            "(200); with a different request, 409. Over an admission limit: 429 with "
            "Retry-After, and nothing is created."
        ),
        request=SubmitSerializer,
        parameters=[RETRY_AFTER],
        responses={
            201: OpenApiResponse(JobSerializer, "Created."),
            200: OpenApiResponse(JobSerializer, "The job first submitted with this idempotency_key."),
            400: BAD_REQUEST,
            401: UNAUTHENTICATED,
            409: OpenApiResponse(FIELD_ERRORS, "The idempotency_key was used for a different job."),
            429: OpenApiResponse(ADMISSION_REFUSED, "Over an admission limit (or the request throttle)."),
        },
    ),
    cancel=extend_schema(
        summary="Cancel an active job", request=None, parameters=[JOB_ID, RETRY_AFTER],
        responses={200: JobSerializer, 404: NOT_FOUND, 409: _conflict("The job is already final."), **ALWAYS},
    ),
    retry=extend_schema(
        summary="Run a failed job's failed and never-run subtasks again", request=None, parameters=[JOB_ID, RETRY_AFTER],
        responses={
            200: JobSerializer, 404: NOT_FOUND, 409: _conflict("The job is not failed."),
            401: UNAUTHENTICATED,
            429: OpenApiResponse(ADMISSION_REFUSED, "Over an admission limit (or the request throttle): nothing changed."),
        },
    ),
    destroy=extend_schema(
        summary="Delete a finished job with its subtasks", parameters=[JOB_ID, RETRY_AFTER],
        responses={
            204: OpenApiResponse(description="Deleted."), 404: NOT_FOUND,
            409: _conflict("The job is active: cancel it first."), **ALWAYS,
        },
    ),
    params=extend_schema(
        summary="The job's params as stored, as a JSON download", parameters=[JOB_ID, RETRY_AFTER],
        responses={200: OpenApiResponse(PARAMS, "The params."), 404: NOT_FOUND, **ALWAYS},
    ),
    subtasks=extend_schema(
        summary="A job's subtasks, in order", parameters=[JOB_ID, RETRY_AFTER],
        responses={200: SubtaskSerializer(many=True), 404: OpenApiResponse(DETAIL, "No such job among yours, or no such page."), **ALWAYS},
    ),
)(JobViewSet)

extend_schema_view(
    list=extend_schema(
        summary="Every job type: its queue and the schema of its params",
        parameters=[RETRY_AFTER],
        responses={200: JobTypeSerializer(many=True), 404: NO_SUCH_PAGE, **ALWAYS},
    ),
)(JobTypeViewSet)


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]

"""API error responses: every 4xx names the field and the reason as a JSON object."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from jobs.admission import AdmissionRefused
from jobs.submit import SubmissionError


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response(
            {"body": [f"Request body is larger than {limit} bytes, the limit (LEPTON_MAX_REQUEST_BYTES)."]},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, SubmissionError):
        return Response(exc.errors, status=exc.status)
    if isinstance(exc, AdmissionRefused):
        return Response(
            exc.as_response_body(),
            status=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(exc.retry_after)},
        )
    response = drf_exception_handler(exc, context)
    if response is not None and response.status_code == status.HTTP_404_NOT_FOUND:
        response.data = {"detail": "Not found."}
    return response

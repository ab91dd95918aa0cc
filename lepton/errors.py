"""Project-wide error pages: under /api/ they are JSON like every other API answer.

A path under /api/ that no route matches (`/api/jobs/1.5/`: the router's id is digits
only) never reaches DRF, so without this Django would answer it with an HTML page.
"""

from django.http import JsonResponse
from django.views import defaults

API_PREFIX = "/api/"


def not_found(request, exception):
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request)

"""Answer liveness probes before anything else runs.

An orchestrator probes a container by its IP address, which is not in ALLOWED_HOSTS:
CommonMiddleware would answer 400 and the probe would restart a healthy process. The
liveness answer reveals nothing and does no I/O, so it is safe to give to any host.
"""

from django.http import HttpResponse

LIVENESS_PATHS = frozenset({"/livez", "/healthz"})


def alive():
    return HttpResponse("ok\n", content_type="text/plain", headers={"Cache-Control": "no-store"})


class LivenessMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path in LIVENESS_PATHS and request.method in ("GET", "HEAD"):
            return alive()
        return self.get_response(request)

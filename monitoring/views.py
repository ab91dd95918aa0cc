"""Probe and scrape endpoints: /livez (/healthz), /readyz, /metrics."""

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from monitoring.checks import FAIL, overall, run_checks
from monitoring.metrics import exposition
from monitoring.middleware import alive

HEALTH_JSON = "application/health+json"


@require_GET
def livez(request):
    """The process answers; no I/O. LivenessMiddleware answers first, whatever the Host;
    this route keeps the address resolvable without it."""
    return alive()


@require_GET
@never_cache
def readyz(request):
    """Readiness in the IETF health-check draft's shape; 503 only if a critical check fails."""
    now = timezone.now()
    results = run_checks(now)
    status = overall(results)
    body = {
        "status": status,
        "checks": {
            name: [{"status": check_status, "output": detail, "time": now.isoformat()}]
            for name, check_status, detail in results
        },
    }
    return JsonResponse(body, status=503 if status == FAIL else 200, content_type=HEALTH_JSON)


@require_GET
@never_cache
def metrics(request):
    """Prometheus text. With LEPTON_METRICS_TOKEN set, `Authorization: Bearer <token>` is
    required (401 otherwise); without it, only loopback clients are served (403)."""
    token = settings.LEPTON_METRICS_TOKEN
    if token:
        given = request.META.get("HTTP_AUTHORIZATION", "").encode()
        if not hmac.compare_digest(given, f"Bearer {token}".encode()):
            response = HttpResponse("a valid bearer token is required\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    elif not _is_loopback(request.META.get("REMOTE_ADDR", "")):
        return HttpResponse(
            "/metrics serves loopback clients only unless LEPTON_METRICS_TOKEN is set\n",
            status=403, content_type="text/plain",
        )
    return HttpResponse(exposition.render(), content_type=CONTENT_TYPE_PLAIN_0_0_4)


def _is_loopback(address):
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False

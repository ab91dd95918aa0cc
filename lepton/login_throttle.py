"""Login throttle (issue 9.8): django-axes counts failed logins per user name and client
address and locks that pair out for a cool-off, on every login that goes through
Django's `authenticate(request, ...)` (the admin's and the site's /accounts/login/).
"""

from django.conf import settings
from django.http import HttpResponse

from axes.backends import AxesStandaloneBackend


class LoginThrottleBackend(AxesStandaloneBackend):
    """Axes' check, for logins that come with a request.

    A call without a request (management commands, the test client's `login()`) has no
    client address to count and nothing an attacker can reach, so it passes through to
    the next backend instead of raising as axes' own backend does.
    """

    def authenticate(self, request=None, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_ip(request):
    """The address failures are counted for.

    Behind Lepton's nginx (LEPTON_BEHIND_PROXY=true) every request comes from the proxy;
    nginx overwrites X-Real-IP with the peer it saw, so that header is the client. Without
    the proxy the header is the client's own word and is ignored.
    """
    if settings.LEPTON_BEHIND_PROXY:
        return request.META.get("HTTP_X_REAL_IP") or request.META.get("REMOTE_ADDR")
    return request.META.get("REMOTE_ADDR")


def lockout_response(request, *args, **kwargs):
    """429 with Retry-After, like every other limit of the platform."""
    minutes = settings.LEPTON_LOGIN_COOLOFF_MINUTES
    response = HttpResponse(
        f"Too many failed logins for this account from your address. Try again in {minutes:g} minute(s).\n",
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(int(minutes * 60))
    return response

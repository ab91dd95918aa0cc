"""Content-Security-Policy on every HTML page (issue 9, "Also").

Lepton's pages and Django admin load scripts and styles from files on our own origin
only (htmx is a vendored file; admin 5.2 passes data to its scripts in data-* attributes,
not inline code), so the policy allows no inline script and no other origin. An XSS
that slips an element into a page then has nothing to run. Django's own middleware
keeps X-Frame-Options, X-Content-Type-Options and Referrer-Policy.
"""

from django.conf import settings


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # JSON, CSV and downloads run nothing in a browser; a view may set its own policy.
        if response.get("Content-Type", "").startswith("text/html") and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = settings.LEPTON_CONTENT_SECURITY_POLICY
        return response

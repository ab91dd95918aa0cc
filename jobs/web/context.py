"""Template context every page shares: what the navigation links to."""

from django.conf import settings


def navigation(request):
    # LEPTON_FLOWER_URL is optional: without it the nav has no Flower link.
    return {"flower_url": getattr(settings, "LEPTON_FLOWER_URL", "")}

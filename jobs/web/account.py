"""/account/: the user's API token, shown once when created or rotated."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from jobs import tokens
from jobs.models import ApiToken


@login_required
def account_page(request):
    return _render(request, new_key=None)


@never_cache
@require_POST
@login_required
def rotate_token(request):
    """Issue a new key (any old one stops working) and show it in this response only.

    Rendered rather than redirected so the key never rests in the session store.
    """
    return _render(request, new_key=tokens.issue(request.user))


def _render(request, new_key):
    return render(
        request,
        "jobs/account.html",
        {
            "token": ApiToken.objects.filter(user=request.user).first(),
            "new_key": new_key,
            "api_url": request.build_absolute_uri("/api/jobs/"),
        },
    )

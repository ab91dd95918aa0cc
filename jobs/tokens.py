"""API tokens: issue, rotate and check keys whose digest alone is stored."""

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone

from jobs.models import ApiToken

PREFIX_LENGTH = 8
#: `last_used_at` is written only when older than this: one UPDATE a minute per token,
#: not one per API request.
USED_AT_RESOLUTION = timedelta(minutes=1)


def digest(key):
    return hashlib.sha256(key.encode()).hexdigest()


def issue(user):
    """A new key for `user`, replacing any previous one; the only time the key exists."""
    key = secrets.token_hex(20)
    ApiToken.objects.update_or_create(
        user=user,
        defaults={"digest": digest(key), "prefix": key[:PREFIX_LENGTH], "created_at": timezone.now(), "last_used_at": None},
    )
    return key


def user_for(key):
    """The active user whose key this is, or None. Stamps the token's last use."""
    token = ApiToken.objects.select_related("user").filter(digest=digest(key)).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or token.last_used_at < now - USED_AT_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user

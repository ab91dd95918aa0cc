"""`Authorization: Token <key>` against hashed keys (jobs.tokens)."""

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from jobs import tokens


class HashedTokenAuthentication(TokenAuthentication):
    """DRF's token scheme and header parsing; the lookup is by the key's digest."""

    def authenticate_credentials(self, key):
        user = tokens.user_for(key)
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        return user, None

"""Invitations: a one-time link with which a new user sets their password.

Built on Django's password-reset tokens: the link works until the password is set (the
token hashes the password field) or PASSWORD_RESET_TIMEOUT passes, whichever is first.
"""

import logging
import smtplib

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

log = logging.getLogger(__name__)


def invitation_link(user, site_url=None):
    path = reverse(
        "password_reset_confirm",
        kwargs={"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": default_token_generator.make_token(user)},
    )
    return f"{(site_url or settings.LEPTON_SITE_URL).rstrip('/')}{path}"


def invite(user, site_url=None):
    """The user's invitation link, also mailed if they have an address; returns (link, mailed)."""
    link = invitation_link(user, site_url)
    if not user.email:
        return link, False
    days = settings.PASSWORD_RESET_TIMEOUT // 86400
    try:
        send_mail(
            "Your Lepton account",
            f"Hello {user.get_username()},\n\nSet your password for Lepton here (the link works once, "
            f"for {days} days):\n\n{link}\n",
            None,
            [user.email],
        )
    except (OSError, smtplib.SMTPException):
        log.warning("invitation mail to user %s failed", user.pk, exc_info=True)
        return link, False
    return link, True

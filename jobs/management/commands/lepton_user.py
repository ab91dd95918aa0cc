"""Create or update a user; print a new API token, and optionally an invitation link."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from jobs import invitations, tokens
from jobs.models import ApiToken


class Command(BaseCommand):
    help = (
        "Create or update a user. Prints an API token (Authorization: Token <key>) on stdout when "
        "the user has none or with --rotate-token: only a hash is stored, so it is shown once."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--staff", action="store_true", help="make the user staff and superuser (admin access)")
        parser.add_argument("--password", help="set this password (without it, the user can use only the API)")
        parser.add_argument("--email", help="set the user's email address (invitations are mailed to it)")
        parser.add_argument("--rotate-token", action="store_true", help="replace the user's API token and print the new one")
        parser.add_argument(
            "--invite", action="store_true",
            help="print (on stderr) a one-time link to set a password, and mail it if the user has an email",
        )

    def handle(self, name, staff, password, email, rotate_token, invite, **options):
        user, created = get_user_model().objects.get_or_create(username=name)
        if staff:
            user.is_staff = user.is_superuser = True
        if email:
            user.email = email
        if password:
            user.set_password(password)
        elif created:
            user.set_unusable_password()
        user.save()
        self.stderr.write(f"{'Created' if created else 'Updated'} user {name!r}.")
        existing = ApiToken.objects.filter(user=user).first()
        if existing is None or rotate_token:
            self.stderr.write("API token (shown only now; store it safely):")
            self.stdout.write(tokens.issue(user))
        else:
            self.stderr.write(f"The user has an API token ({existing.prefix}…); --rotate-token replaces it.")
        if invite:
            link, mailed = invitations.invite(user)
            self.stderr.write(f"Invitation link{' (also mailed to ' + user.email + ')' if mailed else ''}:\n{link}")

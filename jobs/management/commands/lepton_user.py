"""Create or update a user; print a new API token, and optionally an invitation link."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from jobs import invitations, tokens
from jobs.models import ApiToken


class Command(BaseCommand):
    help = "Create or update a user and print an API token (Authorization: Token <key>)."

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
        users = get_user_model()
        if password:
            # AUTH_PASSWORD_VALIDATORS, before anything is saved: a refused password
            # leaves no new user behind.
            _validate(password, users.objects.filter(username=name).first() or users(username=name))
        user, created = users.objects.get_or_create(username=name)
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


def _validate(password, user):
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise CommandError("Password refused: " + " ".join(error.messages)) from None

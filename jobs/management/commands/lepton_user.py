"""Create or update a user and print their API token."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Create or update a user and print an API token (Authorization: Token <key>)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--staff", action="store_true", help="make the user staff and superuser (admin access)")
        parser.add_argument("--password", help="set this password (without it, the user can use only the API)")

    def handle(self, name, staff, password, **options):
        users = get_user_model()
        if password:
            # AUTH_PASSWORD_VALIDATORS, before anything is saved: a refused password
            # leaves no new user behind.
            _validate(password, users.objects.filter(username=name).first() or users(username=name))
        user, created = users.objects.get_or_create(username=name)
        if staff:
            user.is_staff = user.is_superuser = True
        if password:
            user.set_password(password)
        elif created:
            user.set_unusable_password()
        user.save()
        token, _ = Token.objects.get_or_create(user=user)
        self.stderr.write(f"{'Created' if created else 'Updated'} user {name!r}. API token:")
        self.stdout.write(token.key)


def _validate(password, user):
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise CommandError("Password refused: " + " ".join(error.messages)) from None

"""The models and the migrations agree: no change is waiting for a new migration."""

from io import StringIO

from django.core.management import call_command


def test_no_model_change_is_missing_a_migration(db):
    stdout = StringIO()

    call_command("makemigrations", "--check", "--dry-run", stdout=stdout)

    assert "No changes detected" in stdout.getvalue()

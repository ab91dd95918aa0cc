"""`manage.py health`: the /readyz checks for container health checks (no curl needed)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from monitoring.checks import FAIL, overall, run_checks


class Command(BaseCommand):
    help = "Run the readiness checks, print them, exit non-zero if a critical one fails."

    def handle(self, *args, **options):
        results = run_checks(timezone.now())
        for name, status, detail in results:
            self.stdout.write(f"{status:<4}  {name:<12}  {detail}")
        status = overall(results)
        if status == FAIL:
            raise CommandError("not ready: a critical check failed")
        self.stdout.write(f"status: {status}")

"""Submit a job from the shell: the same validation and admission as the API."""

import json
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from jobs.admission import AdmissionRefused
from jobs.models import Job
from jobs.submit import SubmissionError, submit_job

BAR_WIDTH = 30
#: Seconds between progress lines when stderr is not a terminal.
PROGRESS_LINE_SECONDS = 5


class Command(BaseCommand):
    help = "Submit a job; prints its id, or with --wait a progress bar and then the result as JSON."

    def add_arguments(self, parser):
        parser.add_argument("type", help="a registered job type (see GET /api/job-types/)")
        parser.add_argument(
            "--param", action="append", default=[], metavar="KEY=VALUE",
            help="a parameter; a list is a JSON list or one item per line/comma",
        )
        parser.add_argument("--priority", default="normal", choices=["high", "normal", "low"])
        parser.add_argument("--user", default=settings.LEPTON_CLI_USER, help="submit as this user (default %(default)s)")
        parser.add_argument("--idempotency-key")
        parser.add_argument("--wait", action="store_true", help="show progress, then print the result")
        parser.add_argument("--poll", type=float, default=0.25, help="seconds between progress updates")

    def handle(self, type, param, priority, user, idempotency_key, wait, poll, **options):
        owner = self._owner(user)
        params = dict(self._parse_param(item) for item in param)
        try:
            job, _ = submit_job(owner, type, params, priority, idempotency_key)
        except SubmissionError as exc:
            raise CommandError(f"rejected: {json.dumps(exc.errors)}") from None
        except AdmissionRefused as exc:
            raise CommandError(f"refused: {exc.message} Retry in {exc.retry_after}s.") from None
        if not wait:
            self.stdout.write(str(job.pk))
            return
        # Progress is not an error: Django styles everything on stderr as one (bold red).
        error_style, self.stderr.style_func = self.stderr.style_func, None
        self.stderr.write(f"job {job.pk} submitted")
        progress = TerminalBar(self.stderr) if self.stderr.isatty() else ProgressLines(self.stderr)
        job = self._wait(job.pk, poll, progress)
        self.stderr.style_func = error_style
        if job.status != Job.Status.SUCCEEDED:
            raise CommandError(f"job {job.pk} {job.status}: {job.error}")
        self.stdout.write(json.dumps(job.result, indent=2))

    def _owner(self, name):
        try:
            return get_user_model().objects.get(username=name)
        except get_user_model().DoesNotExist:
            raise CommandError(
                f"no user {name!r}; create one with `manage.py lepton_user {name}` or pass --user"
            ) from None

    @staticmethod
    def _parse_param(item):
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise CommandError(f"--param {item!r}: expected KEY=VALUE")
        # Numbers and JSON lists arrive typed; anything else is text for the form to parse.
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        if isinstance(value, (dict, str)) or value is None:
            value = raw
        return key, value

    @staticmethod
    def _wait(job_id, poll, progress):
        while True:
            job = Job.objects.with_running().get(pk=job_id)
            progress.show(job)
            if job.is_final:
                progress.close()
                return job
            time.sleep(poll)


def _counts(job):
    return f"{job.done + job.failed}/{job.total} done={job.done} failed={job.failed} running={job.running}"


class TerminalBar:
    """On a terminal: one bar redrawn in place (`\r` frames)."""

    def __init__(self, stream):
        self.stream = stream

    def show(self, job):
        finished = job.done + job.failed
        filled = BAR_WIDTH * finished // job.total if job.total else BAR_WIDTH
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stream.write(f"\r[{bar}] {_counts(job)} {job.status:<10}", ending="")
        self.stream.flush()

    def close(self):
        self.stream.write("")


class ProgressLines:
    """Piped to a file or another program: a plain line when the status changes and every
    PROGRESS_LINE_SECONDS meanwhile, so a log shows progress without piling up frames."""

    def __init__(self, stream):
        self.stream = stream
        self.last = None

    def show(self, job):
        now = time.monotonic()
        if self.last and self.last[0] == job.status and now - self.last[1] < PROGRESS_LINE_SECONDS and not job.is_final:
            return
        self.stream.write(f"job {job.pk} {job.status}: {_counts(job)}")
        self.stream.flush()
        self.last = (job.status, now)

    def close(self):
        pass

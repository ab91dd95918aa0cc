"""The canary: every LEPTON_CANARY_SECONDS, one tiny `canary` job per job queue, submitted
through the users' path (jobs.submit.submit_job) as the system user `lepton-canary`.

Each run is a CanaryRun row. A pass first closes the runs whose job ended (latency =
submission to the job's end) and fails those past LEPTON_CANARY_DEADLINE_SECONDS (their
job is canceled), then submits a new run on each queue that has none in flight, so a
stalled queue gets one canary, not a pile. Canary jobs skip admission control, run at
high priority (they measure that the pipeline works, not the backlog, which has its own
alert) and belong to one user, so figures can leave them out.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Max
from django.utils import timezone

from jobs.control import cancel_job
from jobs.models import Job, Priority
from jobs.submit import SubmissionError, submit_job
from monitoring.models.canary import CanaryRun

CANARY_USERNAME = "lepton-canary"
JOB_TYPE = "canary"
#: Runs looked at to count consecutive failures; the alert threshold is far below it.
FAILURE_LOOKBACK = 20


def canary_user():
    """The system user canary jobs belong to; it cannot log in."""
    user, created = get_user_model().objects.get_or_create(username=CANARY_USERNAME)
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def run_pass(now=None):
    """Close finished and overdue runs, then start one per idle queue; returns runs started."""
    now = now or timezone.now()
    close_runs(now)
    user = canary_user()
    busy = set(CanaryRun.objects.filter(outcome=CanaryRun.Outcome.RUNNING).values_list("queue", flat=True))
    started = 0
    for queue in settings.LEPTON_QUEUES:
        if queue not in busy:
            start_run(user, queue)
            started += 1
    return started


def start_run(user, queue):
    submitted_at = timezone.now()
    try:
        job, _ = submit_job(
            user, JOB_TYPE, {"token": f"{queue}-{submitted_at:%H%M%S}"},
            priority=Priority.HIGH, queue=queue, admission=False,
        )
    except SubmissionError as exc:
        return CanaryRun.objects.create(
            queue=queue, submitted_at=submitted_at, finished_at=submitted_at,
            outcome=CanaryRun.Outcome.FAILED, error=f"submission refused: {exc.errors}",
        )
    return CanaryRun.objects.create(queue=queue, job=job, submitted_at=submitted_at)


def close_runs(now):
    deadline = timedelta(seconds=settings.LEPTON_CANARY_DEADLINE_SECONDS)
    for run in CanaryRun.objects.filter(outcome=CanaryRun.Outcome.RUNNING).select_related("job"):
        job = run.job
        if job is not None and job.is_final:
            ok = job.status == Job.Status.SUCCEEDED
            CanaryRun.objects.filter(pk=run.pk, outcome=CanaryRun.Outcome.RUNNING).update(
                outcome=CanaryRun.Outcome.SUCCEEDED if ok else CanaryRun.Outcome.FAILED,
                finished_at=job.finished_at,
                latency_seconds=(job.finished_at - run.submitted_at).total_seconds(),
                error="" if ok else f"job {job.status}: {job.error}"[:2000],
            )
        elif job is None or now - run.submitted_at > deadline:
            if job is not None:
                cancel_job(job.pk)
            CanaryRun.objects.filter(pk=run.pk, outcome=CanaryRun.Outcome.RUNNING).update(
                outcome=CanaryRun.Outcome.FAILED, finished_at=now,
                error=f"did not finish within {settings.LEPTON_CANARY_DEADLINE_SECONDS:g}s"
                if job is not None else "its job was deleted",
            )


def consecutive_failures():
    """{queue: failed runs since the queue's last success}, over the job queues."""
    failures = {}
    for queue in settings.LEPTON_QUEUES:
        outcomes = (
            CanaryRun.objects.filter(queue=queue)
            .exclude(outcome=CanaryRun.Outcome.RUNNING)
            .order_by("-submitted_at", "-id")
            .values_list("outcome", flat=True)[:FAILURE_LOOKBACK]
        )
        count = 0
        for outcome in outcomes:
            if outcome != CanaryRun.Outcome.FAILED:
                break
            count += 1
        failures[queue] = count
    return failures


def last_successes():
    """{queue: when its last canary run finished successfully}."""
    rows = (
        CanaryRun.objects.filter(outcome=CanaryRun.Outcome.SUCCEEDED)
        .values("queue")
        .annotate(last=Max("finished_at"))
    )
    return {row["queue"]: row["last"] for row in rows}


def readiness_check(now):
    """("canary", "pass"|"warn", detail): a failing canary warns; it never fails readiness."""
    failing = {queue: n for queue, n in consecutive_failures().items() if n}
    if failing:
        detail = "; ".join(f"queue {queue}: last {n} run(s) failed" for queue, n in sorted(failing.items()))
        return "canary", "warn", detail
    if not CanaryRun.objects.exclude(outcome=CanaryRun.Outcome.RUNNING).exists():
        return "canary", "pass", "no canary run has finished yet"
    return "canary", "pass", "the latest canary run on each queue succeeded"

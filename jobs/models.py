"""Jobs and subtasks: the database is the source of truth (ARCHITECTURE invariant 1).

Every state change is a conditional UPDATE on these rows (see `execution` and
`dispatch`); the broker only carries "run subtask N, attempt K".
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce

from jobs.jsoncolumn import VerbatimJSONField


class Priority(models.TextChoices):
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class JobQuerySet(models.QuerySet):
    def with_running(self):
        """Annotate `running`: subtasks running now, counted from the (job, status) index."""
        return self.annotate(running=_count_in(Subtask.Status.RUNNING))


def _count_in(status):
    """A job's subtasks in `status`, as a subquery over the (job, status) index."""
    count = (
        Subtask.objects.filter(job=models.OuterRef("pk"), status=status)
        .order_by()
        .values("job")
        .annotate(count=models.Count("*"))
        .values("count")
    )
    return Coalesce(models.Subquery(count), 0)


class Job(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        FINALIZING = "finalizing"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELED = "canceled"

    objects = JobQuerySet.as_manager()

    ACTIVE = (Status.QUEUED, Status.RUNNING, Status.FINALIZING)
    FINAL = (Status.SUCCEEDED, Status.FAILED, Status.CANCELED)
    #: What a completion reads to decide the job's next step (finalize, refill, fail).
    PROGRESS_FIELDS = (
        "status", "total", "done", "failed", "max_failures", "window", "batch", "queue", "priority", "type",
    )

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs")
    type = models.CharField(max_length=64)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    queue = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    idempotency_key = models.CharField(max_length=128, null=True, blank=True)

    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    #: Failed subtasks tolerated before the job fails (0: fail fast).
    max_failures = models.PositiveIntegerField(default=0)
    #: Most messages of this job waiting in the broker at once (invariant 7).
    window = models.PositiveIntegerField(default=1)
    #: Subtasks per message, adapted to how long they take (jobs.execution.next_batch).
    batch = models.PositiveIntegerField(default=1)

    result = VerbatimJSONField(null=True, blank=True)
    error = models.TextField(blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    #: When the status last changed; the reconciler finds stuck `finalizing` jobs by it.
    status_changed_at = models.DateTimeField(auto_now_add=True)
    #: Held by the worker running the combine step, like a subtask's lease.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    #: Combine steps started in this run of the job; past LEPTON_MAX_COMBINE_ATTEMPTS the
    #: reconciler fails the job instead of sending a combine that keeps dying again.
    combine_attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        # Operator actions beyond Django's view/change/delete; the roles (groups) grant them.
        permissions = [
            ("cancel_job", "Can cancel any user's job"),
            ("retry_job", "Can retry any user's failed job"),
            ("submit_restricted_job", "Can submit restricted job types (LEPTON_RESTRICTED_JOB_TYPES)"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="job_unique_idempotency_key_per_owner",
            ),
        ]
        indexes = [
            # The API's job list: one owner's jobs, newest first, optionally by status.
            models.Index(fields=["owner", "-created_at"], name="job_owner_created"),
            # Admission control: active jobs, per owner and in all. Not a partial index:
            # SQLite cannot match `status IN (?, ?, ?)` with bound values to one.
            models.Index(fields=["status", "owner"], name="job_status_owner"),
            # Reconciler: jobs stuck in finalizing.
            models.Index(
                fields=["status_changed_at"],
                condition=Q(status="finalizing"),
                name="job_finalizing",
            ),
            # Monitoring: jobs submitted and finished in a window (per-minute snapshots).
            models.Index(fields=["created_at"], name="job_created"),
            models.Index(fields=["finished_at"], name="job_finished"),
        ]

    def __str__(self):
        return f"job {self.pk} ({self.type}, {self.status})"

    @property
    def is_final(self):
        return self.status in self.FINAL

    @property
    def params(self):
        return self.input.params


class JobParams(models.Model):
    """A job's cleaned params, in a row of their own.

    They can be megabytes (a `stats` job over a million numbers) and the job row is
    updated on every completion: SQLite rewrites a whole row on update, and reads the
    columns stored after a large value only by walking past it.
    """

    job = models.OneToOneField(Job, primary_key=True, on_delete=models.CASCADE, related_name="input")
    params = VerbatimJSONField()
    #: jobs.params_summary.summarize(params), computed at submission: lists and pages read
    #: this (deferring `params`) so a page of huge jobs stays small.
    summary = models.JSONField(default=dict)

    def __str__(self):
        return f"params of job {self.job_id}"


class Subtask(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        QUEUED = "queued"
        RUNNING = "running"
        RETRY_WAIT = "retry_wait"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELED = "canceled"

    #: Not yet finished: what cancel and job failure sweep away (running ones finish).
    UNSTARTED = (Status.PENDING, Status.QUEUED, Status.RETRY_WAIT)

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="subtasks")
    index = models.PositiveIntegerField()
    payload = VerbatimJSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    #: Bumped each time the subtask is handed out again; a message or completion that
    #: names an older attempt is fenced off.
    attempt = models.PositiveIntegerField(default=0)
    #: Attempts that started in this run of the job; the retry limit counts these, and a
    #: retry of the failed job starts them again from zero.
    tries = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=255, blank=True)
    #: The message that carries it: the index of the first subtask in that message. The
    #: dispatch window counts a job's distinct messages among its queued subtasks.
    message = models.PositiveIntegerField(null=True, blank=True)
    #: The worker process running it, so an operator can find (or a chaos test kill) it.
    worker_pid = models.PositiveIntegerField(null=True, blank=True)

    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)

    result = VerbatimJSONField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["job", "index"]
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="subtask_unique_index_per_job"),
        ]
        indexes = [
            # Progress counts and the dispatch window: a job's subtasks by status, in order.
            models.Index(fields=["job", "status", "index"], name="subtask_job_status_index"),
            # Reconciler scans, one partial index each, only over the rows still to heal.
            models.Index(
                fields=["lease_expires_at"],
                condition=Q(status="running"),
                name="subtask_running_lease",
            ),
            models.Index(
                fields=["retry_at"], condition=Q(status="retry_wait"), name="subtask_retry_due"
            ),
            models.Index(
                fields=["queued_at"], condition=Q(status="queued"), name="subtask_queued_since"
            ),
            # Monitoring: what finished in a window (failure ratio, per-minute snapshots).
            models.Index(fields=["finished_at"], name="subtask_finished"),
            # Monitoring: the latest failures with their errors (health page).
            models.Index(fields=["-finished_at"], condition=Q(status="failed"), name="subtask_failed_recent"),
        ]

    def __str__(self):
        return f"subtask {self.job_id}/{self.index} ({self.status}, attempt {self.attempt})"

    @staticmethod
    def at_attempts(pairs):
        """A filter for these (subtask id, attempt) pairs, each only at its own attempt.

        One `attempt = a AND id IN (...)` term per distinct attempt: a message's pairs
        mostly share one, and a term per pair cost the ORM more to build than the
        statement cost to run (a profiled batch of 16 spent most of its claim there).
        No pairs is an error, not an empty Q() (which would match every row)."""
        if not pairs:
            raise ValueError("at_attempts needs at least one (subtask id, attempt) pair")
        by_attempt = {}
        for subtask_id, attempt in pairs:
            by_attempt.setdefault(attempt, []).append(subtask_id)
        matches = Q()
        for attempt, ids in by_attempt.items():
            matches |= Q(attempt=attempt, pk__in=ids)
        return matches

    @staticmethod
    def of_jobs_in(statuses):
        """A filter for subtasks whose job is in one of these statuses, fit for a
        conditional UPDATE.

        Filtering through the join (`job__status__in`) makes Django write the UPDATE as
        `id IN (SELECT ... JOIN ...)`. An UPDATE that waited for another transaction's
        lock on the row then checks the row's own conditions (status, attempt) only
        against the old version, inside the subquery: a reconciler requeue that waited for
        a completion would turn the succeeded row back into `queued`, and the subtask
        would be counted twice. Kept out of the join, those conditions stay in the UPDATE's
        own WHERE, which PostgreSQL re-checks on the row it waited for."""
        return Q(job__in=Job.objects.filter(status__in=statuses))


class RecoveryEvent(models.Model):
    """One healing action or fenced-off write: what the reconciler and the fences did.

    Operators read these in admin and monitoring counts them; a steady trickle of
    `lease_lapsed` from one worker is a sick worker.
    """

    class Kind(models.TextChoices):
        LEASE_LAPSED = "lease_lapsed"
        REDISPATCHED = "redispatched"
        BROKER_RESET = "broker_reset"
        FINALIZE_RESENT = "finalize_resent"
        LATE_COMPLETION = "late_completion"
        HANDED_BACK = "handed_back"
        JOB_RETRIED = "job_retried"
        #: The job's type is not installed on the host that tried to heal or send it.
        UNKNOWN_TYPE = "unknown_type"
        #: A reconcile step raised on this job's rows; the rest of the pass went on.
        RECONCILE_ERROR = "reconcile_error"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.CASCADE, related_name="recovery_events")
    subtask_index = models.PositiveIntegerField(null=True, blank=True)
    attempt = models.PositiveIntegerField(null=True, blank=True)
    worker = models.CharField(max_length=255, blank=True)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.kind} job={self.job_id} subtask={self.subtask_index}"

    @classmethod
    def record(cls, kind, rows, detail):
        """One event per subtask row (a dict with job_id, index, attempt, worker);
        `detail(row)` says what happened to it."""
        cls.objects.bulk_create(
            cls(
                kind=kind,
                job_id=row["job_id"],
                subtask_index=row.get("index"),
                attempt=row.get("attempt"),
                worker=row.get("worker", ""),
                detail=detail(row),
            )
            for row in rows
        )


class Worker(models.Model):
    """A Celery worker as it last reported itself (jobs.workers writes the heartbeat)."""

    hostname = models.CharField(max_length=255, unique=True)
    #: Queues it was started to consume, and those it consumes now (fewer in quarantine).
    queues = models.JSONField(default=list)
    consuming = models.JSONField(default=list)
    concurrency = models.PositiveIntegerField(default=0)
    pid = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(db_index=True)
    #: In the future: the worker is kept off its queues for failing too often
    #: (jobs.quarantine). In the past: when it was released; its failure rate is counted
    #: again from then on.
    quarantined_until = models.DateTimeField(null=True, blank=True)
    quarantine_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["hostname"]
        permissions = [("release_worker", "Can release a worker from quarantine")]

    def __str__(self):
        return self.hostname


class WorkerMinute(models.Model):
    """Subtask attempts per worker per minute: the window behind P_n = failed / attempted."""

    hostname = models.CharField(max_length=255)
    minute = models.DateTimeField()
    attempted = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hostname", "minute"], name="worker_minute_unique"),
        ]
        # Window queries: every worker's rows since a given minute.
        indexes = [models.Index(fields=["minute"], name="worker_minute_time")]

    def __str__(self):
        return f"{self.hostname} {self.minute:%H:%M}"


class Housekeeping(models.Model):
    """One row per periodic control-plane task (reconcile, worker review, alert evaluation,
    retention, ...): its single-flight lease and when it last ran.

    `jobs.singleflight` takes the lease with one conditional UPDATE stamped by the
    database's clock (invariant 11), so whatever number of processes consume the control
    queue, one pass runs at a time; the others skip rather than queue. Monitoring reads
    `last_succeeded_at` to tell a stale reconciler.
    """

    name = models.CharField(max_length=64, unique=True)
    #: Who holds the lease: "<hostname>:<pid>"; empty when free.
    holder = models.CharField(max_length=255, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_succeeded_at = models.DateTimeField(null=True, blank=True)
    last_failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    #: Seconds the last successful pass took.
    last_duration = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ApiToken(models.Model):
    """A user's API key, stored only as its SHA-256 digest (issue 9, finding 10).

    The key itself is shown once, when it is created or rotated (`jobs.tokens`); a copy
    of the database does not hand out working credentials. SHA-256 rather than a slow
    password hash: the key is 160 random bits, so there is nothing to brute-force, and
    every API request looks it up.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_token")
    digest = models.CharField(max_length=64, unique=True)
    #: The first characters of the key, so a user can tell which key a row is.
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    #: Stamped at most once a minute (jobs.tokens.USED_AT_RESOLUTION), not on every request.
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"

    def __str__(self):
        return f"{self.prefix}… ({self.user})"

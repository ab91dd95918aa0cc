"""Canary runs: one tiny job per job queue on a schedule, measured end to end."""

from django.db import models


class CanaryRun(models.Model):
    class Outcome(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    queue = models.CharField(max_length=64)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    #: Submission to the job's end, in seconds.
    latency_seconds = models.FloatField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.RUNNING)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [
            # Latest runs per queue (panel, readiness, alert signal) and retention.
            models.Index(fields=["queue", "-submitted_at"], name="canary_queue_latest"),
            models.Index(fields=["submitted_at"], name="canary_submitted"),
        ]

    def __str__(self):
        return f"canary {self.queue} {self.submitted_at:%H:%M:%S} ({self.outcome})"

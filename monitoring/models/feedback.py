"""What users tell operators: a rating, a category and a message, optionally about one job.

Operators triage it in admin (new -> acknowledged -> resolved) and may reply; the user
sees the status and the reply on /feedback/.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from jobs.models import Job


class Feedback(models.Model):
    class Status(models.TextChoices):
        NEW = "new"
        ACKNOWLEDGED = "acknowledged"
        RESOLVED = "resolved"

    class Category(models.TextChoices):
        BUG = "bug"
        PERFORMANCE = "performance"
        IDEA = "idea"
        OTHER = "other"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feedback")
    #: The job it is about, if it was left from a job page; kept if the job is pruned.
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback")
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)], help_text="1 (bad) to 5 (great)."
    )
    category = models.CharField(max_length=16, choices=Category.choices, default=Category.OTHER)
    message = models.TextField(max_length=5000)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    reply = models.TextField(blank=True, max_length=5000, help_text="Shown to the user on their feedback page.")
    replied_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "feedback"
        indexes = [
            # The user's own list on /feedback/, newest first.
            models.Index(fields=["user", "-created_at"], name="feedback_user_created"),
            # Admin's default view and the health panel's counts: by status, newest first.
            models.Index(fields=["status", "-created_at"], name="feedback_status_created"),
        ]

    def __str__(self):
        return f"feedback {self.pk} ({self.category}, {self.rating}/5, {self.status})"

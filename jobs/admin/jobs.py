"""Jobs and their subtasks in admin: a list that fits a laptop, a job page with the
operator's buttons (cancel, retry failed), params as JSON with a download, and subtasks
reached through a filtered list, never all at once.
"""

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from jobs.admin.records import RecordAdmin, json_preview
from jobs.control import cancel_job, retry_job
from jobs.models import Job, JobParams, RecoveryEvent, Subtask
from jobs.waiting import waiting_reason


@admin.register(Job)
class JobAdmin(RecordAdmin):
    # Seven narrow columns: the whole row fits 1280 px; priority and queue are filters.
    list_display = ["id", "type", "owner", "status", "progress", "duration", "created_at"]
    list_filter = ["status", "type", "priority", "queue", "created_at"]
    search_fields = ["=id", "^owner__username", "=idempotency_key"]
    list_select_related = ["owner"]
    actions = ["cancel_selected", "retry_selected", "delete_selected"]
    fieldsets = [
        (None, {"fields": ["type", "owner", "status", "waiting", "priority", "queue", "progress", "duration", "subtasks", "error"]}),
        ("Input and result", {"fields": ["params_preview", "result_preview"]}),
        ("Times", {"fields": ["created_at", "started_at", "finished_at", "status_changed_at", "lease_expires_at"]}),
        ("Flow control", {"fields": ["idempotency_key", "max_failures", "window", "batch"]}),
    ]
    readonly_fields = [name for _, section in fieldsets for name in section["fields"]]

    class Media:
        css = {"all": ["jobs/admin.css"]}

    # --- Permissions: one per operator action (jobs.models.Job.Meta.permissions) -------

    def has_cancel_permission(self, request, obj=None):
        return request.user.has_perm("jobs.cancel_job")

    def has_retry_permission(self, request, obj=None):
        return request.user.has_perm("jobs.retry_job")

    def has_delete_permission(self, request, obj=None):
        """Finished jobs only, for users with jobs.delete_job: an active job is canceled first."""
        allowed = request.user.has_perm("jobs.delete_job")
        return allowed and (obj is None or obj.is_final)

    # --- Columns and fields -------------------------------------------------------------

    @admin.display(description="progress")
    def progress(self, job):
        return format_html("{} done · {} failed / {}", job.done, job.failed, job.total)

    @admin.display(description="why it waits")
    def waiting(self, job):
        """Computed from the rows now (jobs.waiting), so right even with no worker alive."""
        return ("" if job.is_final else waiting_reason(job)) or "—"

    @admin.display(description="duration")
    def duration(self, job):
        if job.started_at is None:
            return "—"
        end = job.finished_at or timezone.now()
        return format_duration((end - job.started_at).total_seconds())

    @admin.display(description="subtasks")
    def subtasks(self, job):
        changelist = reverse("admin:jobs_subtask_changelist")
        return format_html(
            '<a href="{}?job__id__exact={}">All {} subtasks</a> · <a href="{}?job__id__exact={}&status__exact=failed">failed ones</a>',
            changelist, job.pk, job.total, changelist, job.pk,
        )

    @admin.display(description="params")
    def params_preview(self, job):
        params = JobParams.objects.filter(job=job).values_list("params", flat=True).first()
        download = reverse("admin:jobs_job_params", args=[job.pk])
        return format_html('{}<a href="{}" download>Download params (JSON)</a>', json_preview(params), download)

    @admin.display(description="result")
    def result_preview(self, job):
        return "—" if job.result is None else json_preview(job.result)

    # --- The job page's buttons ---------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:object_id>/cancel/", wrap(self.cancel_view), name="jobs_job_cancel"),
            path("<int:object_id>/retry/", wrap(self.retry_view), name="jobs_job_retry"),
            path("<int:object_id>/params.json", wrap(self.params_view), name="jobs_job_params"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, object_id)
        if job is not None:
            extra_context = {
                **(extra_context or {}),
                "can_cancel": not job.is_final and self.has_cancel_permission(request, job),
                "can_retry": job.status == Job.Status.FAILED and self.has_retry_permission(request, job),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    @method_decorator(require_POST)
    def cancel_view(self, request, object_id):
        return self._act(request, object_id, self.has_cancel_permission, cancel_job, "Canceled", "is no longer active")

    @method_decorator(require_POST)
    def retry_view(self, request, object_id):
        return self._act(request, object_id, self.has_retry_permission, retry_job, "Retried failed subtasks", "has not failed")

    def _act(self, request, object_id, has_permission, act, done, refused):
        job = self._job_or_404(request, object_id)
        if not has_permission(request, job):
            raise PermissionDenied
        if act(job.pk):
            self.log_change(request, job, done)
            self.message_user(request, f"{job}: {done.lower()}.", messages.SUCCESS)
        else:
            self.message_user(request, f"Job {job.pk} {refused}: nothing done.", messages.WARNING)
        return redirect("admin:jobs_job_change", job.pk)

    def params_view(self, request, object_id):
        job = self._job_or_404(request, object_id)
        params = JobParams.objects.filter(job=job).values_list("params", flat=True).first()
        response = HttpResponse(json.dumps(params, ensure_ascii=False), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="job-{job.pk}-params.json"'
        return response

    def _job_or_404(self, request, object_id):
        job = self.get_object(request, object_id)
        if job is None:
            raise Http404
        if not self.has_view_permission(request, job):
            raise PermissionDenied
        return job

    # --- Bulk actions -------------------------------------------------------------------

    @admin.action(description="Cancel selected active jobs", permissions=["cancel"])
    def cancel_selected(self, request, queryset):
        canceled = self._act_on_each(request, queryset, cancel_job, "Canceled")
        self.message_user(request, f"Canceled {canceled} job(s).", messages.SUCCESS)

    @admin.action(description="Retry selected failed jobs", permissions=["retry"])
    def retry_selected(self, request, queryset):
        retried = self._act_on_each(request, queryset, retry_job, "Retried failed subtasks")
        self.message_user(request, f"Retrying {retried} failed job(s).", messages.SUCCESS)

    def _act_on_each(self, request, queryset, act, message):
        """Run `act` on each selected job; an audit row for each one it changed."""
        changed = 0
        for job in queryset.select_related(None).only("id", "type", "status"):
            if act(job.pk):
                self.log_change(request, job, message)
                changed += 1
        return changed

    def get_deleted_objects(self, objs, request):
        """The delete confirmation as a summary: Django's default lists every related row,
        100,000 subtasks of one job on one page. Active jobs block the deletion."""
        jobs = list(objs)
        to_delete = [str(job) for job in jobs]
        counts = {
            "jobs": len(jobs),
            "subtasks": Subtask.objects.filter(job__in=jobs).count(),
        }
        perms_needed = set() if self.has_delete_permission(request) else {"job"}
        protected = [f"{job}: still active, cancel it first" for job in jobs if not job.is_final]
        return to_delete, counts, perms_needed, protected


def format_duration(seconds):
    """12.3s, 4m 05s, 2h 03m: short enough for a list column."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def job_link(job_id):
    return format_html('<a href="{}">{}</a>', reverse("admin:jobs_job_change", args=[job_id]), job_id)


@admin.register(Subtask)
class SubtaskAdmin(RecordAdmin):
    list_display = ["id", "job_column", "index", "status", "attempt", "tries", "worker", "started_at", "finished_at"]
    list_filter = ["status"]
    # job_id, not job: Subtask's Meta ordering by "job" follows Job's ordering through a
    # join; these columns walk the (job, index) unique index, filtered by a job or not.
    ordering = ["job_id", "index"]
    search_fields = ["job_id__exact", "=worker"]
    fields = [
        "job", "index", "status", "attempt", "tries", "worker", "worker_pid", "message", "error",
        "payload_preview", "result_preview",
        "queued_at", "started_at", "finished_at", "lease_expires_at", "retry_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        # The list shows neither payload nor result; they can be large.
        queryset = super().get_queryset(request)
        url_name = getattr(request.resolver_match, "url_name", "") or ""
        return queryset.defer("payload", "result") if url_name.endswith("changelist") else queryset

    @admin.display(description="job", ordering="job_id")
    def job_column(self, subtask):
        # The id alone: no join to the job row for each of up to 100 rows.
        return job_link(subtask.job_id)

    @admin.display(description="payload")
    def payload_preview(self, subtask):
        return json_preview(subtask.payload)

    @admin.display(description="result")
    def result_preview(self, subtask):
        return "—" if subtask.result is None else json_preview(subtask.result)


@admin.register(RecoveryEvent)
class RecoveryEventAdmin(RecordAdmin):
    list_display = ["created_at", "kind", "job_column", "subtask_index", "attempt", "worker", "detail"]
    list_filter = ["kind"]
    search_fields = ["job_id__exact", "=worker"]
    readonly_fields = fields = ["created_at", "kind", "job", "subtask_index", "attempt", "worker", "detail"]

    @admin.display(description="job", ordering="job_id")
    def job_column(self, event):
        return "—" if event.job_id is None else job_link(event.job_id)

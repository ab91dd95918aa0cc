"""The user's jobs: list, detail, the live progress fragment, cancel, retry and delete.

Every lookup is scoped to the requesting user (`owner=request.user`): another user's
job is a 404, never a 403 that would confirm it exists.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST

from jobs import registry
from jobs.admission import AdmissionRefused
from jobs.control import cancel_job, delete_job, retry_admitted
from jobs.models import Job
from jobs.waiting import count_waiting, waiting_reason
from jobs.web import results

JOBS_PER_PAGE = 25
SUBTASKS_PER_PAGE = 50
#: htmx stops polling an element whose response has this status.
STOP_POLLING = 286


@login_required
def job_list(request):
    # The list shows no results or errors: leave those (possibly large) columns unread.
    jobs = Job.objects.filter(owner=request.user).with_running().defer("result", "error")
    status, type_name = request.GET.get("status", ""), request.GET.get("type", "")
    if status:
        jobs = jobs.filter(status=status)
    if type_name:
        jobs = jobs.filter(type=type_name)
    page = Paginator(jobs, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "type_name": type_name,
        "statuses": Job.Status.values,
        "types": [job_type.name for job_type in registry.all_types()],
        "live": any(job.status in Job.ACTIVE for job in page),
    }
    template = "jobs/_job_table.html" if request.htmx else "jobs/job_list.html"
    response = render(request, template, context)
    # One URL, two bodies (page or table fragment): caches must tell them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
def job_detail(request, pk):
    job = _own_job(request, pk)
    return render(request, "jobs/job_detail.html", _live_context(job, request.GET.get("page")))


@login_required
def job_progress(request, pk):
    """The live fragment; with it, out of band, the buttons, the subtask page shown and,
    once the job has ended, its result."""
    job = _own_job(request, pk)
    response = render(request, "jobs/_progress.html", _live_context(job, request.GET.get("page")))
    if job.is_final:
        response.status_code = STOP_POLLING
    return response


@require_POST
@login_required
def cancel(request, pk):
    job = _own_job(request, pk)
    if cancel_job(job.pk):
        messages.success(request, f"Job {job.pk} canceled.")
    else:
        messages.error(request, f"Job {job.pk} is already {job.status}; only an active job can be canceled.")
    return redirect("job-detail", pk=job.pk, permanent=False)


@require_POST
@login_required
def retry(request, pk):
    job = _own_job(request, pk)
    try:
        retried = retry_admitted(job.pk)
    except AdmissionRefused as refusal:
        messages.error(request, f"Not retried: {refusal.message} Try again in {refusal.retry_after} s.")
        return redirect("job-detail", pk=job.pk, permanent=False)
    if retried:
        messages.success(request, f"Job {job.pk} is running again: its failed subtasks will be retried.")
    else:
        messages.error(request, f"Job {job.pk} is {job.status}; only a failed job can be retried.")
    return redirect("job-detail", pk=job.pk, permanent=False)


@require_POST
@login_required
def delete(request, pk):
    job = _own_job(request, pk)
    if not delete_job(job.pk):
        messages.error(request, f"Job {job.pk} is {job.status}; only a finished job can be deleted. Cancel it first.")
        return redirect("job-detail", pk=job.pk, permanent=False)
    messages.success(request, f"Job {job.pk} deleted.")
    return redirect("job-list", permanent=False)


def _own_job(request, pk):
    return count_waiting(get_object_or_404(Job, pk=pk, owner=request.user))


def _live_context(job, subtask_page):
    """What the progress fragment shows; the detail page renders the same fragment first."""
    return {
        "job": job,
        "subtasks": _subtask_page(job, subtask_page),
        "result": results.present(job),
        "can_cancel": job.status in Job.ACTIVE,
        "can_retry": job.status == Job.Status.FAILED,
        "can_delete": job.is_final,
        "waiting_reason": "" if job.is_final else waiting_reason(job),
        "poll_seconds": poll_seconds(job, timezone.now()),
    }


def _subtask_page(job, number):
    subtasks = job.subtasks.order_by("index").only(
        "job_id", "index", "status", "attempt", "worker", "started_at", "finished_at", "error"
    )
    paginator = Paginator(subtasks, SUBTASKS_PER_PAGE)
    # The job row already knows how many subtasks it has: spare a COUNT over up to 10^5 rows.
    paginator.count = job.total
    return paginator.get_page(number)


def poll_seconds(job, now):
    """How often the page asks for progress: every second at first, less for long jobs."""
    age = (now - (job.started_at or job.created_at)).total_seconds()
    if age < 60:
        return 1
    if age < 600:
        return 2
    return 5

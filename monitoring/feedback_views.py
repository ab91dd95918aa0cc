"""/feedback/: leave feedback (about a job when it comes from one), see your own and replies."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render

from jobs.models import Job
from monitoring.feedback_forms import FeedbackForm

FEEDBACK_PER_PAGE = 20


@login_required
def feedback_page(request):
    """GET: the form and the user's feedback; ?box=1 (htmx, from a job page) only the form.

    POST: save it and return to where it came from. A job id that is not the user's is a 404.
    """
    job_id = request.POST.get("job") or request.GET.get("job")
    job = get_object_or_404(Job.objects.only("pk", "type", "owner_id"), pk=job_id, owner=request.user) if job_id else None
    form = FeedbackForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        form.instance.user, form.instance.job = request.user, job
        form.save()
        messages.success(request, "Thank you: your feedback reached the operators.")
        return redirect("job-detail", pk=job.pk) if job else redirect("feedback")
    context = {"form": form, "job": job}
    if request.htmx and request.GET.get("box"):
        return render(request, "monitoring/_feedback_form.html", context)
    page = Paginator(request.user.feedback.select_related("job"), FEEDBACK_PER_PAGE).get_page(request.GET.get("page"))
    status = 400 if form.errors else 200
    return render(request, "monitoring/feedback.html", {**context, "page": page}, status=status)

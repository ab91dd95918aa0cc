"""The peer's JSON views: validate, send with Celery's canvas, read results from the database.

The way a Django team wires Celery without a job platform: POST answers with the id
to poll; the status views read django-celery-results' rows (TaskResult, GroupResult).
Bad input is a 400 naming the field, as Lepton's API does.
"""

import json
import math

from celery import chord, group
from celery.result import GroupResult
from django.db.models import Count, Q
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from django_celery_results.models import TaskResult

from tests.bench.peer import tasks

MAX_TASKS = 1_000_000


class BadRequest(Exception):
    pass


def _body(request):
    try:
        body = json.loads(request.body or b"{}")
    except ValueError as exc:
        raise BadRequest(f"body: not JSON ({exc})") from None
    if not isinstance(body, dict):
        raise BadRequest("body: must be a JSON object")
    return body


def _count(body, field, default=None, low=1, high=MAX_TASKS):
    value = body.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequest(f"{field}: must be an integer from {low} to {high}")
    return value


def _values(body):
    values = body.get("values")
    if not isinstance(values, list) or not values:
        raise BadRequest("values: must be a non-empty list of numbers")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise BadRequest("values: every item must be a finite number")
    return values


def _json_view(handler):
    """A 400 with the reason for bad input, never a 500."""

    @csrf_exempt
    def view(request, *args, **kwargs):
        try:
            return handler(request, *args, **kwargs)
        except BadRequest as exc:
            return JsonResponse({"error": str(exc)}, status=400)

    return view


@_json_view
@require_POST
def submit_task(request):
    """One no-op task; poll /tasks/<id>/."""
    index = _count(_body(request), "index", default=0, low=0)
    return JsonResponse({"id": tasks.noop.apply_async((index,)).id}, status=201)


@_json_view
@require_POST
def submit_noops(request):
    """n no-op tasks: a group (poll /groups/<id>/) or, with "combine", a chord summing
    them (poll /tasks/<callback id>/)."""
    body = _body(request)
    n = _count(body, "n")
    signatures = (tasks.noop.s(i) for i in range(n))
    if body.get("combine"):
        return JsonResponse({"id": chord(signatures)(tasks.total.s()).id}, status=201)
    result = group(signatures).apply_async()
    result.save()
    return JsonResponse({"id": result.id}, status=201)


@_json_view
@require_POST
def submit_stats(request):
    """Chunked statistics: a chord of chunk_stats with merge_stats; poll /tasks/<id>/."""
    body = _body(request)
    values = _values(body)
    size = _count(body, "chunk_size")
    chunks = (tasks.chunk_stats.s(values[lo : lo + size]) for lo in range(0, len(values), size))
    return JsonResponse({"id": chord(chunks)(tasks.merge_stats.s()).id}, status=201)


@require_GET
def task_status(request, task_id):
    row = TaskResult.objects.filter(task_id=task_id).values("status", "result").first()
    if row is None:
        return JsonResponse({"status": "PENDING", "result": None})
    return JsonResponse({"status": row["status"], "result": json.loads(row["result"] or "null")})


@require_GET
def group_status(request, group_id):
    """How many of the group's tasks have finished, in one query over their result rows."""
    result = GroupResult.restore(group_id, app=tasks.app)
    if result is None:
        return JsonResponse({"error": "no such group"}, status=404)
    ids = [child.id for child in result.results]
    counts = TaskResult.objects.filter(task_id__in=ids).aggregate(
        succeeded=Count("id", filter=Q(status="SUCCESS")), failed=Count("id", filter=Q(status="FAILURE"))
    )
    return JsonResponse({"total": len(ids), **counts})

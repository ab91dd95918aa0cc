"""jobs.row_models reads and writes rows exactly as the ORM does."""

from datetime import timedelta

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.utils import timezone

from jobs import row_models
from jobs.models import Job, JobParams, Worker


def every_field(instance):
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def fetch_all(model, extra=""):
    table = connection.ops.quote_name(model._meta.db_table)
    return row_models.fetch(model, f"SELECT {row_models.columns(model, table)}{extra} FROM {table} ORDER BY 1", [])


@pytest.mark.django_db
def test_fetched_instances_hold_what_the_orm_reads_json_times_and_nulls_included():
    now = timezone.now()
    Worker.objects.create(
        hostname="a", queues=["default", "cpu"], consuming=[], concurrency=2, pid=None, started_at=now,
        last_seen_at=now, quarantined_until=now + timedelta(minutes=5), quarantine_reason="fails 40%",
    )
    Worker.objects.create(hostname="b", queues={"nested": [1, None]}, started_at=now, last_seen_at=now)
    fetched = fetch_all(Worker, extra=", 7")
    assert [every_field(worker) for worker, _ in fetched] == [
        every_field(worker) for worker in Worker.objects.order_by("pk")
    ]
    assert [extras for _, extras in fetched] == [(7,), (7,)]
    worker = fetched[0][0]
    assert worker.quarantined_until.tzinfo is not None and not worker._state.adding
    worker.save()  # an instance the ORM can update, as one it read itself


@pytest.mark.django_db
def test_an_inserted_row_reads_back_as_one_the_orm_created(owner):
    ours = row_models.insert(Job(owner=owner, type="diagnostic", queue="default", total=3, window=2))
    theirs = Job.objects.create(owner=owner, type="diagnostic", queue="default", total=3, window=2)
    assert ours.pk is not None and ours.pk != theirs.pk and not ours._state.adding
    stored = Job.objects.get(pk=ours.pk)
    expected = model_to_dict(Job.objects.get(pk=theirs.pk), exclude=["id", "created_at", "status_changed_at"])
    assert model_to_dict(stored, exclude=["id", "created_at", "status_changed_at"]) == expected
    assert stored.created_at == ours.created_at and stored.created_at <= theirs.created_at

    params = row_models.insert(JobParams(job=ours, params={"subtasks": 3, "text": "é"}, summary={"subtasks": 3}))
    assert params.pk == ours.pk
    assert JobParams.objects.values("params", "summary").get(pk=ours.pk) == {
        "params": {"subtasks": 3, "text": "é"}, "summary": {"subtasks": 3},
    }

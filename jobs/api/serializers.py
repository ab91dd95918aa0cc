from rest_framework import serializers
from rest_framework.reverse import reverse

from jobs import params_summary
from jobs.models import Job, Priority, Subtask
from jobs.restrictions import is_restricted
from jobs.schema import describe_form
from jobs.waiting import waiting_reason


class ParsedJSONField(serializers.Field):
    """A value as the JSON parser produced it, passed on as it is.

    DRF's JSONField re-encodes its value to check it is JSON: a second copy of a
    20 MB `stats` body in the web process. The parser (jobs.userjson) has checked it.
    """

    def to_internal_value(self, data):
        return data

    def to_representation(self, value):
        return value


class SubmitSerializer(serializers.Serializer):
    """The envelope of a submission; the job type's own form validates `params`."""

    type = serializers.CharField(max_length=64)
    params = ParsedJSONField(default=dict)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    idempotency_key = serializers.CharField(max_length=128, required=False, allow_blank=False)


#: DRF's own formatting of a timestamp (ISO 8601, UTC as "Z"), for the hand-built representation.
_TIMESTAMP = serializers.DateTimeField()


class JobListSerializer(serializers.ModelSerializer):
    """A job in a list: its params as a summary only, so a page stays small (issue 8.14).

    The fields are declared for the schema and for readers; `to_representation` builds the
    dict directly. Every poll of a job and every row of a page renders one, and DRF's
    field-by-field path took about 1 ms of CPU each, as long as the rest of a poll. The
    output is DRF's own (tests/api/test_job_representation.py compares the two).
    """

    VALUES = {
        "id": lambda serializer, job: job.pk,
        "type": lambda serializer, job: job.type,
        "status": lambda serializer, job: job.status,
        "params_summary": lambda serializer, job: job.input.summary,
        "params_url": lambda serializer, job: serializer.get_params_url(job),
        "priority": lambda serializer, job: job.priority,
        "queue": lambda serializer, job: job.queue,
        "progress": lambda serializer, job: serializer.get_progress(job),
        "result": lambda serializer, job: job.result,
        "error": lambda serializer, job: job.error,
        "created_at": lambda serializer, job: _TIMESTAMP.to_representation(job.created_at),
        "started_at": lambda serializer, job: _TIMESTAMP.to_representation(job.started_at),
        "finished_at": lambda serializer, job: _TIMESTAMP.to_representation(job.finished_at),
    }

    params_summary = serializers.JSONField(source="input.summary", read_only=True)
    params_url = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id", "type", "status", "params_summary", "params_url", "priority", "queue", "progress",
            "result", "error", "created_at", "started_at", "finished_at",
        ]

    def get_params_url(self, job):
        return reverse("job-params", args=[job.pk], request=self.context.get("request"))

    def get_progress(self, job):
        return {
            "total": job.total,
            "done": job.done,
            "failed": job.failed,
            "running": job.running,
        }

    def to_representation(self, job):
        return {name: self.VALUES[name](self, job) for name in self.Meta.fields}


class JobSerializer(JobListSerializer):
    """One job: with its params too, unless they are large (then null: see `params_url`),
    and why it waits (jobs.waiting), read from the rows at request time."""

    params = serializers.SerializerMethodField()
    waiting_reason = serializers.SerializerMethodField()

    VALUES = {
        **JobListSerializer.VALUES,
        "params": lambda serializer, job: serializer.get_params(job),
        "waiting_reason": lambda serializer, job: serializer.get_waiting_reason(job),
    }

    class Meta(JobListSerializer.Meta):
        fields = [*JobListSerializer.Meta.fields[:3], "params", *JobListSerializer.Meta.fields[3:], "waiting_reason"]

    def get_waiting_reason(self, job):
        return waiting_reason(job)

    def get_params(self, job):
        if params_summary.is_large(job.input.summary):
            return None
        return job.input.params


class SubtaskSerializer(serializers.ModelSerializer):
    class Meta:
        model = Subtask
        fields = [
            "index", "status", "attempt", "worker", "payload", "result", "error",
            "queued_at", "started_at", "finished_at",
        ]


class JobTypeSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    queue = serializers.CharField()
    restricted = serializers.SerializerMethodField()
    params = serializers.SerializerMethodField()

    def get_restricted(self, job_type):
        return is_restricted(job_type.name)

    def get_params(self, job_type):
        return describe_form(job_type.params_form)

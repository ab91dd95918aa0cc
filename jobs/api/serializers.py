from rest_framework import serializers

from jobs.models import Job, Priority, Subtask
from jobs.schema import describe_form
from jobs.waiting import waiting_reason


class SubmitSerializer(serializers.Serializer):
    """The envelope of a submission; the job type's own form validates `params`."""

    type = serializers.CharField(max_length=64)
    params = serializers.JSONField(default=dict)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    idempotency_key = serializers.CharField(max_length=128, required=False, allow_blank=False)


class JobSerializer(serializers.ModelSerializer):
    params = serializers.JSONField(source="input.params", read_only=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id", "type", "status", "params", "priority", "queue", "progress",
            "result", "error", "created_at", "started_at", "finished_at",
        ]

    def get_progress(self, job):
        return {
            "total": job.total,
            "done": job.done,
            "failed": job.failed,
            "running": job.running,
        }


class JobDetailSerializer(JobSerializer):
    """One job, with why it waits (jobs.waiting), read from the rows at request time."""

    waiting_reason = serializers.SerializerMethodField()

    class Meta(JobSerializer.Meta):
        fields = [*JobSerializer.Meta.fields, "waiting_reason"]

    def get_waiting_reason(self, job):
        return waiting_reason(job)


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
    params = serializers.SerializerMethodField()

    def get_params(self, job_type):
        return describe_form(job_type.params_form)

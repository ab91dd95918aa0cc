"""`manage.py worker_alive NODE`: the workers' container healthcheck."""

import socket
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from jobs.models import Worker

pytestmark = pytest.mark.django_db


def worker(hostname, seconds_ago):
    seen = timezone.now() - timedelta(seconds=seconds_ago)
    return Worker.objects.create(hostname=hostname, started_at=seen, last_seen_at=seen)


def test_it_passes_for_a_worker_that_beat_recently(capsys):
    worker("work@host-a", seconds_ago=1)
    call_command("worker_alive", "work@host-a")
    assert "work@host-a is alive" in capsys.readouterr().out


def test_it_fails_for_a_worker_silent_for_three_heartbeats(settings):
    settings.LEPTON_WORKER_HEARTBEAT_SECONDS = 5
    worker("work@host-a", seconds_ago=16)
    with pytest.raises(CommandError, match="work@host-a: last heartbeat at"):
        call_command("worker_alive", "work@host-a")


def test_it_fails_for_a_worker_that_never_reported():
    with pytest.raises(CommandError, match="work@nowhere: never reported"):
        call_command("worker_alive", "work@nowhere")


def test_a_bare_name_means_this_host():
    worker(f"work@{socket.gethostname()}", seconds_ago=0)
    call_command("worker_alive", "work")

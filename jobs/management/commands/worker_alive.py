"""Exit 0 if a worker's heartbeat is fresh, 1 if not: a container healthcheck for workers.

`worker_alive work` checks work@<this host's name>, the node name docker-compose gives
each worker container (`-n work@%h`); `worker_alive work@host-a` checks that node.
Fresh means within three heartbeats (LEPTON_WORKER_HEARTBEAT_SECONDS), as for
jobs.workers.live_workers: a worker whose event loop is stuck stops beating.
"""

import socket

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from jobs.models import Worker
from jobs.workers import live_workers


class Command(BaseCommand):
    help = "Exit 0 if the worker NODE (name@host; a bare name means name@this host) reported within three heartbeats."

    def add_arguments(self, parser):
        parser.add_argument("node", help="node name, e.g. work@host-a, or `work` for work@<this host>")

    def handle(self, *args, node, **options):
        hostname = node if "@" in node else f"{node}@{socket.gethostname()}"
        if any(worker.hostname == hostname for worker in live_workers(timezone.now())):
            self.stdout.write(f"{hostname} is alive")
            return
        last = Worker.objects.filter(hostname=hostname).values_list("last_seen_at", flat=True).first()
        raise CommandError(f"{hostname}: " + (f"last heartbeat at {last.isoformat()}" if last else "never reported"))

"""How long a 100,000-subtask submission holds SQLite's write lock, and what the
reconciler's scans cost at that size with and without Subtask.Meta.ordering.

    LEPTON_DATA_DIR=$(mktemp -d) python -m tests.bench.write_lock [subtasks]

A second process tries `BEGIN IMMEDIATE` every 5 ms while the main process submits, and
records how long each attempt waited: the longest wait is (within 5 ms) the longest time
a lease renewal would have waited behind the submission. Prints figures; asserts none.
"""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lepton.settings")
os.environ.setdefault("LEPTON_BROKER_URL", "memory://")
# The job it submits is a diagnostic one, which only operators may run by default.
os.environ.setdefault("LEPTON_RESTRICTED_JOB_TYPES", "")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from jobs.models import Subtask  # noqa: E402
from jobs.submit import submit_job  # noqa: E402

PROBE = r"""
import sqlite3, sys, time, os
db, stop = sys.argv[1], sys.argv[2]
conn = sqlite3.connect(db, timeout=60, isolation_level=None)
waits = []
while not os.path.exists(stop):
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    waits.append(time.perf_counter() - started)
    conn.execute("COMMIT")
    time.sleep(0.005)
waits.sort()
print(f"{len(waits)} {waits[-1]:.4f} {waits[int(len(waits) * 0.99)]:.4f}")
"""


def main(subtasks=100_000):
    call_command("migrate", verbosity=0)
    user, _ = get_user_model().objects.get_or_create(username="bench-write-lock")
    db = settings.DATABASES["default"]["NAME"]
    stop = Path(settings.DATA_DIR) / "write-lock-probe.stop"
    stop.unlink(missing_ok=True)
    probe = subprocess.Popen([sys.executable, "-c", PROBE, str(db), str(stop)], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        started = time.perf_counter()
        job, _ = submit_job(user, "diagnostic", {"subtasks": subtasks})
        submitted = time.perf_counter() - started
        time.sleep(0.5)
    finally:
        stop.touch()
        out, _ = probe.communicate(timeout=120)
    attempts, longest, p99 = out.split()
    print(f"submission of {subtasks} subtasks: {submitted:.2f} s in all")
    print(f"write-lock waits seen by a second process ({attempts} attempts): longest {float(longest) * 1000:.0f} ms, p99 {float(p99) * 1000:.0f} ms")
    print(f"lease: {settings.LEPTON_LEASE_SECONDS:.0f} s (renewed every {settings.LEPTON_LEASE_SECONDS / 3:.0f} s)")

    Subtask.objects.filter(job=job).update(status="queued", queued_at=timezone.now() - timedelta(hours=1))
    scan = Subtask.objects.filter(status="queued", queued_at__lt=timezone.now()).values("id", "attempt", "job__type")
    for label, queryset in (("with Meta.ordering", scan), ("with .order_by()", scan.order_by())):
        best = min(_timed(lambda: list(queryset[:500])) for _ in range(5))
        print(f"reconciler scan of 500 among {subtasks} queued rows, {label}: {best * 1000:.1f} ms")


def _timed(fn):
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)

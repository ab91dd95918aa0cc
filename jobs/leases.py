"""Lease renewal inside the worker process, beside (not inside) the subtask's code.

A running subtask's lease says "my worker is alive". A thread in each worker process
extends the leases of the subtasks (and combine steps) that process is running; when the
process dies (SIGKILL, OOM, host gone) renewal stops, the lease lapses, and the
reconciler hands the subtask out again under a new attempt (invariant 5), or sends the
combine step again. The same thread flushes the process's attempt counts (jobs.workers).
"""

import logging
import os
import threading
import time
from django.conf import settings
from django.db import connection

from jobs.clock import lease_expiry
from jobs.models import Job, Subtask
from jobs.workers import attempts

log = logging.getLogger(__name__)

STATS_FLUSH_SECONDS = 1.0


class LeaseRenewer:
    def __init__(self):
        self._held = {}
        self._jobs = set()
        self._lock = threading.Lock()
        self._thread = None
        self._pid = None

    def hold(self, subtask_id, attempt):
        with self._lock:
            self._held[subtask_id] = attempt
            self._ensure_thread()

    def release(self, subtask_id):
        with self._lock:
            self._held.pop(subtask_id, None)

    def hold_job(self, job_id):
        """Renew the lease of a job whose combine step this process is running."""
        with self._lock:
            self._jobs.add(job_id)
            self._ensure_thread()

    def release_job(self, job_id):
        with self._lock:
            self._jobs.discard(job_id)

    def _ensure_thread(self):
        # Worker processes are forked: a thread started in the parent does not exist in
        # the child, so each process starts its own on first use. A renewer that died
        # (anything escaping its loop) is started again at the next hold, before the
        # next subtask runs: its leases would otherwise lapse under live work.
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        if self._thread is not None and self._pid == os.getpid():
            log.error("event=lease_renewer_restarted reason=thread died")
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="lepton-lease-renewer", daemon=True)
        self._thread.start()

    def _run(self):
        renew_every = settings.LEPTON_LEASE_SECONDS / 3
        renewed_at = time.monotonic()
        stop = threading.Event()
        # Attempt counts are flushed every tick, so quarantine sees a failing worker soon.
        while not stop.wait(min(STATS_FLUSH_SECONDS, renew_every)):
            try:
                attempts.flush()
                if time.monotonic() - renewed_at >= renew_every:
                    with self._lock:
                        held, jobs = list(self._held.items()), list(self._jobs)
                    self.renew(held, jobs)
                    renewed_at = _after_renewal(renewed_at, renew_every, held, jobs)
            except Exception:
                log.exception("event=lease_renewal_failed")
                connection.close()

    @staticmethod
    def renew(held, jobs):
        expires = lease_expiry()
        if held:
            Subtask.objects.filter(Subtask.at_attempts(held), status=Subtask.Status.RUNNING).update(
                lease_expires_at=expires
            )
        if jobs:
            Job.objects.filter(pk__in=jobs, status=Job.Status.FINALIZING).update(lease_expires_at=expires)


def _after_renewal(previous, renew_every, held, jobs):
    """When this renewal ended. Renewals normally end `renew_every` (a third of the lease)
    apart; one that ends more than two thirds of a lease after the last (a slow or blocked
    database, a starved process) says this process's leases came close to lapsing, or did:
    a warning, so a lost lease on a live worker can be told from a dead one."""
    now = time.monotonic()
    if now - previous > 2 * renew_every and (held or jobs):
        log.warning(
            "event=lease_renewal_late seconds_since_last=%.2f lease_seconds=%s subtasks=%d jobs=%d",
            now - previous, settings.LEPTON_LEASE_SECONDS, len(held), len(jobs),
        )
    return now


renewer = LeaseRenewer()

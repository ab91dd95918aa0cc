"""One rehearsal: spread a job over the hosts, cut one host's link mid-job, watch its
subtasks fail over, bring the link back, watch the host rejoin, and count every result.

Phases (every time is the database's clock, the one clock of invariant 11):
1. job 1 (diagnostic subtasks with a known answer) runs on all hosts;
2. once the host to cut runs two of its subtasks, its link goes down, if it can be caught
   so, inside a transaction that locked the job's row: the subtasks it runs are the
   victims; failover is when each is requeued, and runs, under a newer attempt, elsewhere;
3. the link stays down `hold_cut_seconds` longer, then comes back; the host has rejoined
   when its worker's heartbeat reaches the database again; job 2 is then submitted and
   must run on it too;
4. both jobs must end with their exact answers, every subtask counted once, and the
   host whose clock is skewed must have lost no lease.
"""

import math
import time
from dataclasses import asdict, dataclass

from django.db import connection

from jobs.clock import db_now
from jobs.models import Job, RecoveryEvent, Subtask, Worker
from tests.cluster.stack import CLUSTER_ENV, HOSTS

CLUSTER_USER = "cluster"
#: Diagnostic subtasks (a known answer) that wait without time.sleep (see stack.CLUSTER_ENV).
JOB_TYPE = "waits"
#: Seconds of allowance in each bound for a loaded machine.
SLACK = 3.0


@dataclass(frozen=True)
class RehearsalConfig:
    subtasks: int = 48
    sleep_ms: int = 1000
    rejoin_subtasks: int = 24
    cut_host: str = "host2"
    #: Seconds the link stays down after failover was seen.
    hold_cut_seconds: float = 0.0
    #: Seconds any one wait (a phase, a job) may take before the rehearsal gives up.
    timeout: float = 120.0


class RehearsalFailed(Exception):
    pass


def requeue_bound():
    """Seconds from the cut by which every victim must be handed out again: its lease
    lapses at most a lease after the cut (it was renewed just before, at best), and row
    locks the host held are let go of once its transaction has been idle long enough
    (jobs.sessions); the next reconcile tick requeues it; plus SLACK for a loaded machine."""
    held = max(_setting("LEPTON_LEASE_SECONDS"), _setting("LEPTON_DB_IDLE_TRANSACTION_SECONDS"))
    return held + _setting("LEPTON_RECONCILE_SECONDS") + SLACK


def rerun_bound(job, config):
    """...and by which each runs again elsewhere: a requeued subtask waits for a free slot
    (one subtask's time) behind its job's window of messages (jobs.load.job_window),
    drained by the hosts not cut."""
    slots = 2 * (len(HOSTS) - 1)
    return requeue_bound() + (1 + math.ceil(job.window / slots)) * config.sleep_ms / 1000


def _setting(name):
    """A setting as the rehearsal's processes have it (this process may differ)."""
    return float(CLUSTER_ENV[name])


def rehearse(cluster, config):
    """The report (a dict, see report.render); `report["violations"]` empty when it passed."""
    cut_host = cluster.hostname(config.cut_host)
    first = cluster.submit(JOB_TYPE, CLUSTER_USER, subtasks=config.subtasks, sleep_ms=config.sleep_ms)
    _wait(lambda: len(_running(first, cut_host)) >= 2, config.timeout, f"{cut_host} never ran two subtasks of job {first}")
    outage = _cut(cluster, config, first, cut_host)
    rejoined_at = _wait(
        lambda: Worker.objects.filter(hostname=cut_host, last_seen_at__gt=outage["restored_at"])
        .values_list("last_seen_at", flat=True).first(),
        config.timeout, f"{cut_host} never reported again after its link came back",
    )
    second = cluster.submit(JOB_TYPE, CLUSTER_USER, subtasks=config.rejoin_subtasks, sleep_ms=config.sleep_ms // 2)
    jobs = [_wait_final(job_id, config.timeout) for job_id in (first, second)]

    cut_at, victims = outage["cut_at"], outage["victims"]
    lapsed = RecoveryEvent.objects.filter(
        kind=RecoveryEvent.Kind.LEASE_LAPSED, job_id=first, created_at__gte=cut_at,
        subtask_index__in=[victim["index"] for victim in victims],
    ).values_list("created_at", flat=True)
    report = {
        "config": asdict(config),
        "hosts": _hosts(cluster, jobs),
        "jobs": [_counts(job) for job in jobs],
        "cut_host": cut_host,
        "cut_mid_transaction": outage["mid_transaction"],
        "victims": len(victims),
        "requeue_s": _seconds(cut_at, max(lapsed)) if lapsed else None,
        "requeue_bound_s": round(requeue_bound(), 2),
        "rerun_s": _seconds(cut_at, max(row.started_at for row in outage["reruns"])),
        "rerun_bound_s": round(rerun_bound(jobs[0], config), 2),
        "finished_elsewhere_s": _finished_elsewhere(cut_at, victims, cut_host),
        "outage_s": _seconds(cut_at, outage["restored_at"]),
        "rejoin_s": _seconds(outage["restored_at"], rejoined_at),
        "late_completions_refused": RecoveryEvent.objects.filter(
            kind=RecoveryEvent.Kind.LATE_COMPLETION, job_id=first
        ).count(),
    }
    report["violations"] = judge(report)
    return report


def _cut(cluster, config, job_id, hostname):
    """Cut the host's link (inside a transaction of its, if one is caught), wait until its
    running subtasks (the victims) run elsewhere, hold the cut `hold_cut_seconds` more,
    restore the link. Always restored."""
    try:
        mid_transaction = _cut_mid_transaction(cluster, config.cut_host, hostname, config.timeout / 4)
        cut_at = db_now()
        # A write the host sent just before the cut may still land; then the rows settle.
        time.sleep(0.3)
        victims = _running(job_id, hostname)
        if not victims:
            raise RehearsalFailed(f"{hostname} finished its subtasks as its link was cut; nothing to fail over")
        reruns = _wait(lambda: _rerun_elsewhere(victims, hostname), config.timeout, "the victims never ran elsewhere")
        time.sleep(config.hold_cut_seconds)
    finally:
        cluster.network.restore(config.cut_host)
    return {
        "cut_at": cut_at, "mid_transaction": mid_transaction, "victims": victims, "reruns": reruns,
        "restored_at": db_now(),
    }


def _cut_mid_transaction(cluster, name, hostname, timeout):
    """Cut the link while the host's worker is inside a transaction that updated a job
    row: its session on the server is `idle in transaction`, holding the lock every other
    completion of that job needs, and the lock outlives the link (the hardest case for
    failover, see jobs.sessions). Such a transaction lasts milliseconds, so a cut that came
    too late is undone at once and tried again; after `timeout` seconds the link is cut
    anyway. Whether such a transaction was caught open."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _holding_job_locks(hostname):
            cluster.network.cut(name)
            if _holding_job_locks(hostname):
                return True
            cluster.network.restore(name)
    cluster.network.cut(name)
    return bool(_holding_job_locks(hostname))


def _holding_job_locks(hostname):
    """Sessions of the host's worker (named by PGAPPNAME, see stack.py) idle inside a
    transaction that updated a job row."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity activity JOIN pg_locks lock ON lock.pid = activity.pid"
            " WHERE activity.application_name = %s AND activity.state = 'idle in transaction'"
            " AND lock.relation = %s::regclass AND lock.mode = 'RowExclusiveLock'",
            [hostname, Job._meta.db_table],
        )
        return cursor.fetchone()[0]


def judge(report):
    violations = []
    hosts = report["hosts"]
    first, second = report["jobs"]
    spread = [name for name, host in hosts.items() if host["counted"][0]]
    if len(spread) < 2:
        violations.append(f"job {first['job']} ran on {len(spread)} host(s), not spread")
    for name in ("requeue", "rerun"):
        took, bound = report[f"{name}_s"], report[f"{name}_bound_s"]
        if took is None or took > bound:
            violations.append(f"{name} after the cut took {took}s, over its bound of {bound}s")
    if report["finished_elsewhere_s"] is None:
        violations.append("the victims of the cut did not all finish on other hosts")
    cut = next(name for name, host in hosts.items() if host["hostname"] == report["cut_host"])
    if not hosts[cut]["counted"][1]:
        violations.append(f"{report['cut_host']} ran none of job {second['job']} after rejoining")
    for job in report["jobs"]:
        if job["status"] != Job.Status.SUCCEEDED or not job["exact"]:
            violations.append(f"job {job['job']} {job['status']}, answer exact: {job['exact']}")
        if job["lost"] or job["double_counted"]:
            violations.append(f"job {job['job']}: {job['lost']} lost, {job['double_counted']} double-counted")
    for name, host in hosts.items():
        if host["skew"] and (not sum(host["counted"]) or host["leases_lapsed"]):
            violations.append(
                f"{name} (clock {host['skew']}) counted {sum(host['counted'])} subtasks, lost {host['leases_lapsed']} leases"
            )
    return violations


def _hosts(cluster, jobs):
    """Per host: its queues, clock skew, subtasks counted per job, leases it lost and how
    old its last heartbeat is by the database's clock (a skewed host's too: heartbeats are
    stamped by the database)."""
    now = db_now()
    return {name: _host_row(cluster, name, spec, jobs, now) for name, spec in cluster.specs.items()}


def _host_row(cluster, name, spec, jobs, now):
    hostname = cluster.hostname(name)
    worker = Worker.objects.filter(hostname=hostname).first()
    return {
        "hostname": hostname,
        "queues": list(spec.queues),
        "skew": spec.skew,
        "counted": [
            Subtask.objects.filter(job_id=job.pk, worker=hostname, status=Subtask.Status.SUCCEEDED).count()
            for job in jobs
        ],
        "leases_lapsed": RecoveryEvent.objects.filter(kind=RecoveryEvent.Kind.LEASE_LAPSED, worker=hostname).count(),
        "heartbeat_age_s": _seconds(worker.last_seen_at, now) if worker else None,
    }


def _counts(job):
    """A job's tally: lost (subtasks not succeeded), double-counted (the done counter
    ahead of the succeeded rows; a row per subtask index is the schema's own constraint)
    and whether the combined answer (count and sum of indexes) is the one its parameters
    imply: a partial combined twice or never would change it."""
    succeeded = Subtask.objects.filter(job_id=job.pk, status=Subtask.Status.SUCCEEDED).count()
    n = job.input.params["subtasks"]
    return {
        "job": job.pk,
        "status": job.status,
        "subtasks": n,
        "lost": n - succeeded,
        "double_counted": max(0, job.done - succeeded),
        "exact": job.result == {"subtasks": n, "index_sum": sum(range(n))},
        "seconds": _seconds(job.created_at, job.finished_at) if job.finished_at else None,
    }


def _finished_elsewhere(cut_at, victims, hostname):
    """Seconds from the cut until the last victim succeeded on another host, or None."""
    rows = Subtask.objects.filter(pk__in=[victim["pk"] for victim in victims])
    if any(row.status != Subtask.Status.SUCCEEDED or row.worker == hostname for row in rows):
        return None
    return _seconds(cut_at, max(row.finished_at for row in rows))


def _running(job_id, hostname):
    return list(
        Subtask.objects.filter(job_id=job_id, worker=hostname, status=Subtask.Status.RUNNING)
        .values("pk", "attempt", "index")
    )


def _rerun_elsewhere(victims, hostname):
    """The victims' rows once each runs (or ran) under a newer attempt on another host."""
    rows = Subtask.objects.in_bulk([victim["pk"] for victim in victims])
    for victim in victims:
        row = rows[victim["pk"]]
        rerun = row.attempt > victim["attempt"] and row.status in (Subtask.Status.RUNNING, Subtask.Status.SUCCEEDED)
        if not rerun or row.worker == hostname:
            return None
    return list(rows.values())


def _wait_final(job_id, timeout):
    return _wait(lambda: (job := Job.objects.get(pk=job_id)).is_final and job, timeout, f"job {job_id} never ended")


def _wait(predicate, timeout, message):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise RehearsalFailed(f"{message} (after {timeout}s); database sessions in a transaction:\n{_open_sessions()}")
        time.sleep(0.1)
    return value


def _open_sessions():
    """What a stall's cause is read from: every session inside a transaction, one a line."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, application_name, state, wait_event_type, wait_event, backend_start, now() - xact_start,"
            " left(query, 160) FROM pg_stat_activity WHERE xact_start IS NOT NULL AND pid <> pg_backend_pid()"
            " ORDER BY xact_start"
        )
        return "\n".join(" | ".join(str(value) for value in row) for row in cursor.fetchall()) or "(none)"


def _seconds(start, end):
    return round((end - start).total_seconds(), 2)

"""The rehearsal's table, printed and written as JSON beside the soak's and the bench's."""

import json
from datetime import datetime, timezone


def render(report):
    hosts = report["hosts"]
    (first, second) = report["jobs"]
    header = ("host", "worker", "queues", "clock", f"job {first['job']}", f"job {second['job']}", "leases lost", "heartbeat age s")
    table = [header] + [
        (
            name, host["hostname"], ",".join(host["queues"]), host["skew"] or "true",
            str(host["counted"][0]), str(host["counted"][1]), str(host["leases_lapsed"]),
            "-" if host["heartbeat_age_s"] is None else f"{host['heartbeat_age_s']:.1f}",
        )
        for name, host in hosts.items()
    ]
    lines = ["", "cluster rehearsal: subtasks counted per host and job", *_columns(table), ""]
    lines += [
        f"link cut:  {report['cut_host']}, {report['victims']} subtasks running on it, "
        + ("inside one of its transactions" if report["cut_mid_transaction"] else "between its transactions"),
        f"failover:  requeued {_s(report['requeue_s'])} after the cut (bound {_s(report['requeue_bound_s'])}: "
        f"lease + reconcile tick + slack), running elsewhere {_s(report['rerun_s'])} (bound {_s(report['rerun_bound_s'])}: "
        f"+ a slot and the job's window, drained by the other hosts), finished {_s(report['finished_elsewhere_s'])}",
        f"rejoin:    link down {_s(report['outage_s'])}; heartbeat back {_s(report['rejoin_s'])} after the link; "
        f"{report['late_completions_refused']} late completions refused",
    ]
    for job in report["jobs"]:
        lines.append(
            f"job {job['job']}:    {job['status']}, {job['subtasks']} subtasks, {job['lost']} lost, "
            f"{job['double_counted']} double-counted, answer {'exact' if job['exact'] else 'WRONG'}, {_s(job['seconds'])}"
        )
    lines.append("verdict:   " + ("passed" if not report["violations"] else "FAILED"))
    lines += [f"  - {violation}" for violation in report["violations"]]
    return "\n".join(lines)


def write_report(report, directory):
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"cluster-{stamp}.json"
    path.write_text(json.dumps(report, indent=2, default=str))
    return path


def _columns(table):
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return [" | ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in table]


def _s(value):
    return "-" if value is None else f"{value:.2f}s"

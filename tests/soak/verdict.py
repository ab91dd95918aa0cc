"""The soak's end checks, its table and its JSON record.

Violations (any one makes the soak fail):

- stuck: a job not final at the drain deadline (with its subtasks' statuses);
- lost: a subtask of a succeeded job that did not succeed, or a subtask still unfinished
  inside a final job;
- double-counted / under-counted: a job's `done` above / below its succeeded subtasks;
- wrong result: a succeeded job whose result is not the single-process reference's, or
  that succeeded although its answer cannot be computed or stored;
- stats vs statistics: a succeeded stats job whose count, mean, min, max or stdev differs
  from Python's `statistics` module (beyond rounding) where that module gives an answer;
- unexpected failure: a job that failed although nothing in it injects faults;
- ran after cancel: a subtask of a canceled job that started after the cancel;
- looping: a job whose combine step was sent again more than LOOP_LIMIT times (a combine
  that can never succeed, re-sent every lease instead of failing the job; it may end only
  because the soak canceled it);
- reconcile raised: a reconcile or worker-review pass that raised (worker logs, or a
  `Housekeeping` row that recorded a failure).
"""

import json
import re
from collections import Counter, defaultdict

from django.db.models import Count, Q

from jobs.models import Housekeeping, Job, RecoveryEvent, Subtask
from tests.soak.workload import expected_outcome, stats_disagreements

UNFINISHED = (Subtask.Status.PENDING, Subtask.Status.QUEUED, Subtask.Status.RUNNING, Subtask.Status.RETRY_WAIT)
CONTROL_TASK_RAISED = re.compile(r"Task jobs\.tasks\.(reconcile|review_workers)\[[^\]]*\] raised[^\n]*")
#: Re-sends of one job's combine step that count as a loop. A broker reset while a job
#: finalizes re-sends it once, and the soak resets the broker every minute or so.
LOOP_LIMIT = 10
#: Slowest jobs listed in the report.
SLOWEST = 3
#: Details kept per violation kind, so one systematic bug does not flood the report.
EXAMPLES = 5


def unsettled_jobs():
    """Jobs not final, or final with a subtask still unfinished: what the drain waits for."""
    open_jobs = set(Job.objects.filter(status__in=Job.ACTIVE).values_list("pk", flat=True))
    dangling = set(
        Subtask.objects.filter(status__in=UNFINISHED, job__status__in=Job.FINAL).values_list("job_id", flat=True)
    )
    return open_jobs | dangling


def judge(canceled_at, log_dir):
    """Every check over every job in the database; (counts, violations by kind)."""
    violations = defaultdict(list)
    outcomes = defaultdict(Counter)
    times = []
    counts = Counter()
    succeeded_rows = dict(
        Subtask.objects.filter(status=Subtask.Status.SUCCEEDED).values_list("job_id").annotate(n=Count("pk"))
    )
    unfinished_rows = dict(
        Subtask.objects.filter(status__in=UNFINISHED).values_list("job_id").annotate(n=Count("pk"))
    )
    for job in Job.objects.select_related("input").order_by("pk"):
        succeeded = succeeded_rows.get(job.pk, 0)
        outcome = job.status if job.is_final else "stuck"
        outcomes[job.type][outcome] += 1
        if not job.is_final:
            statuses = dict(Subtask.objects.filter(job=job).values_list("status").annotate(n=Count("pk")))
            violations["stuck"].append(f"job {job.pk} ({job.type}) {job.status}: subtasks {statuses}; error {job.error!r}")
            continue
        times.append(((job.finished_at - job.created_at).total_seconds(), job))
        lost = unfinished_rows.get(job.pk, 0) + (job.total - succeeded if job.status == Job.Status.SUCCEEDED else 0)
        counts["lost"] += lost
        if lost:
            violations["lost"].append(f"job {job.pk} ({job.type}, {job.status}): {lost} subtask(s)")
        if job.done != succeeded:
            kind = "double_counted" if job.done > succeeded else "under_counted"
            counts[kind] += abs(job.done - succeeded)
            violations[kind].append(f"job {job.pk} ({job.type}): done={job.done}, succeeded subtasks={succeeded}")
        _check_outcome(job, violations)
        if job.pk in canceled_at:
            late = Subtask.objects.filter(job=job, started_at__gt=canceled_at[job.pk])
            if late.exists():
                violations["ran_after_cancel"].append(
                    f"job {job.pk}: subtasks {list(late.values_list('index', flat=True)[:10])} started after the cancel "
                    f"at {canceled_at[job.pk].isoformat()}"
                )
    resent = (
        RecoveryEvent.objects.filter(kind=RecoveryEvent.Kind.FINALIZE_RESENT)
        .values_list("job_id").annotate(n=Count("pk")).filter(n__gt=LOOP_LIMIT).order_by("job_id")
    )
    for job_id, count in resent:
        violations["looping"].append(f"job {job_id}: combine step sent again {count} times")
    for problem in control_plane_errors(log_dir):
        violations["reconcile_raised"].append(problem)
    counts["stuck"] = len(violations["stuck"])
    return {
        "outcomes": {type_name: dict(by_outcome) for type_name, by_outcome in sorted(outcomes.items())},
        "stuck": counts["stuck"],
        "lost": counts["lost"],
        "double_counted": counts["double_counted"],
        "under_counted": counts["under_counted"],
        "max_time_to_final_s": round(max((seconds for seconds, _ in times), default=0.0), 2),
        "slowest": [_describe_slow(job, seconds) for seconds, job in sorted(times, key=lambda item: -item[0])[:SLOWEST]],
    }, {kind: found for kind, found in violations.items() if found}


def _describe_slow(job, seconds):
    """A slow job and the healing it needed: where a long time-to-final came from."""
    events = dict(RecoveryEvent.objects.filter(job=job).values_list("kind").annotate(n=Count("pk")))
    return f"job {job.pk} ({job.type}, {job.total} subtasks, {job.status}) {seconds:.1f} s; recovery events {events}"


def _check_outcome(job, violations):
    expected = expected_outcome(job.type, job.input.params)
    if job.status == Job.Status.SUCCEEDED:
        if expected.must_fail:
            violations["wrong_result"].append(f"job {job.pk} ({job.type}) succeeded with {job.result!r}; {expected.why}")
        elif job.result != expected.result:
            violations["wrong_result"].append(
                f"job {job.pk} ({job.type}): result {_short(job.result)} != reference {_short(expected.result)}"
            )
        if job.type == "stats" and (wrong := stats_disagreements(job.input.params["values"], job.result)):
            violations["stats_vs_statistics"].append(
                f"job {job.pk} values {_short(job.input.params['values'], 80)}: {'; '.join(wrong)}"
            )
    elif job.status == Job.Status.FAILED and not (expected.must_fail or expected.may_fail):
        violations["unexpected_failure"].append(f"job {job.pk} ({job.type}) failed: {job.error[:300]}")


def control_plane_errors(log_dir):
    found = [
        f"{path.name}: {match.group(0)[:300]}"
        for path in sorted(log_dir.glob("*.log"))
        for match in CONTROL_TASK_RAISED.finditer(path.read_text(errors="replace"))
    ]
    found += [
        f"housekeeping {row.name} failed at {row.last_failed_at.isoformat()}: {row.last_error[:300]}"
        for row in Housekeeping.objects.filter(~Q(last_failed_at=None))
    ]
    return found


def _short(value, limit=200):
    text = json.dumps(value)
    return text if len(text) <= limit else text[:limit] + "..."


def render(report):
    """The table the soak prints: jobs by type and outcome, faults, the violation counts."""
    outcomes = report["summary"]["outcomes"]
    columns = ["succeeded", "failed", "canceled", "stuck"]
    lines = [f"soak seed={report['seed']} minutes={report['minutes']} jobs={report['jobs_submitted']}", ""]
    lines.append(_row(["type", *columns], [12, 10, 8, 9, 6]))
    for type_name, by_outcome in outcomes.items():
        lines.append(_row([type_name, *(str(by_outcome.get(c, 0)) for c in columns)], [12, 10, 8, 9, 6]))
    lines.append("")
    lines.append("faults fired: " + ", ".join(f"{kind} {n}" for kind, n in sorted(report["faults_fired"].items())))
    if report["faults_skipped"]:
        lines.append("faults skipped (nothing to act on): " + ", ".join(
            f"{kind} {n}" for kind, n in sorted(report["faults_skipped"].items())))
    if report["submissions_not_accepted"]:
        lines.append("submissions not accepted: " + ", ".join(
            f"{kind} {n}" for kind, n in sorted(report["submissions_not_accepted"].items())))
    summary = report["summary"]
    lines.append(
        f"stuck {summary['stuck']} | lost {summary['lost']} | double-counted {summary['double_counted']} | "
        f"under-counted {summary['under_counted']} | max time-to-final {summary['max_time_to_final_s']} s"
    )
    lines += [f"  slow: {line}" for line in summary["slowest"]]
    if report["violations"]:
        lines.append("")
        lines.append("VIOLATIONS")
        for kind, found in report["violations"].items():
            lines.append(f"  {kind}: {len(found)}")
            lines += [f"    {item}" for item in found[:EXAMPLES]]
    else:
        lines.append("no violations")
    return "\n".join(lines)


def _row(cells, widths):
    return " ".join(cell.ljust(width) for cell, width in zip(cells, widths))

"""Readiness checks, shared by GET /readyz and `manage.py health`.

Each check is `check(now) -> (name, status, detail)` with status pass|warn|fail. Only
the critical dependencies (database, broker) can fail, which takes this web process out
of a load balancer (503); the rest warn: a queue without consumers or a stale reconciler
must page someone through alerts, not stop the web tier from answering.
"""

import logging

from django.conf import settings
from django.db import connection

from monitoring import broker, canary, figures

log = logging.getLogger(__name__)

PASS, WARN, FAIL = "pass", "warn", "fail"
_SEVERITY = {PASS: 0, WARN: 1, FAIL: 2}


def database(now):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return "database", FAIL, f"{type(exc).__name__}: {exc}"
    return "database", PASS, connection.vendor


def message_broker(now):
    try:
        broker.ping()
    except Exception as exc:
        return "broker", FAIL, f"{type(exc).__name__}: {exc}"
    return "broker", PASS, "reachable"


def consumers(now):
    """Every job queue and the control queue has a live consumer."""
    without = [name for name, q in figures.queue_figures(now).items() if q.consumers == 0]
    if without:
        return "consumers", WARN, "no live consumer for queue " + ", ".join(without)
    return "consumers", PASS, "every queue has a live consumer"


def reconciler(now):
    last = figures.reconciler_last_success()
    if last is None:
        return "reconciler", WARN, "the reconciler has never succeeded"
    age = (now - last).total_seconds()
    if age > settings.LEPTON_RECONCILER_STALE_SECONDS:
        return "reconciler", WARN, f"last success {age:.0f}s ago"
    return "reconciler", PASS, f"last success {age:.0f}s ago"


#: Critical first: when the database is down the others cannot tell anything anyway.
CHECKS = [database, message_broker, consumers, reconciler, canary.readiness_check]


def run_checks(now):
    """[(name, status, detail)] of every check. A non-critical check that raises is a
    warning naming the error, never a failure."""
    results = []
    for check in CHECKS:
        try:
            results.append(check(now))
        except Exception as exc:
            log.warning("event=readiness_check_error check=%s error=%r", check.__name__, exc)
            results.append((check.__name__, WARN, f"could not check: {type(exc).__name__}: {exc}"))
    return results


def overall(results):
    return max((status for _, status, _ in results), key=_SEVERITY.__getitem__, default=PASS)

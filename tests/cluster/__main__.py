"""`make cluster` / `python -m tests.cluster`: the multi-host rehearsal, outside pytest.

Needs root (namespaces), iproute2, libfaketime and PostgreSQL: with SQLite every "host"
would open the same file, not go over its link, and cutting the link would cut nothing.
The database is LEPTON_DATABASE_URL when it names PostgreSQL (it is migrated; use one for
the rehearsal alone), else a throwaway one on the machine's PostgreSQL (127.0.0.1:5432,
or LEPTON_BENCH_POSTGRES_URL), dropped afterwards. The table also goes to
$LEPTON_DATA_DIR/cluster/. Exits 1 on any violation, 2 when it cannot run here.
"""

import argparse
import contextlib
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent.parent


def parse_args():
    parser = argparse.ArgumentParser(prog="python -m tests.cluster", description=__doc__.splitlines()[0])
    parser.add_argument("--subtasks", type=int, default=120, help="subtasks of the job whose host is cut (default 120)")
    parser.add_argument("--sleep-ms", type=int, default=1000, help="each subtask's run time (default 1000)")
    parser.add_argument("--hold-cut", type=float, default=20.0, help="seconds the link stays down after failover (default 20)")
    return parser.parse_args()


def database():
    """A context yielding the PostgreSQL URL to use."""
    url = os.environ.get("LEPTON_DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return contextlib.nullcontext(url)
    from tests.bench.postgres import throwaway_database

    return throwaway_database()


def main():
    args = parse_args()
    from tests.cluster.netns import unavailable_reason

    reason = unavailable_reason()
    if reason:
        print(f"[cluster] cannot run here: {reason}", file=sys.stderr)
        sys.exit(2)
    data_dir = Path(os.environ.get("LEPTON_DATA_DIR", ROOT / "var")).resolve()
    run_dir = data_dir / "cluster" / datetime.now(timezone.utc).strftime("run-%Y%m%dT%H%M%SZ")
    (run_dir / "logs").mkdir(parents=True)
    try:
        with database() as url:
            report = rehearse_on(url, args, run_dir / "logs")
    except psycopg.OperationalError as exc:
        print(f"[cluster] cannot run here: the rehearsal needs PostgreSQL ({exc})", file=sys.stderr)
        sys.exit(2)
    from tests.cluster.report import render, write_report

    print(render(report), flush=True)
    print(f"written to {write_report(report, data_dir / 'cluster')}; logs in {run_dir / 'logs'}", flush=True)
    sys.exit(1 if report["violations"] else 0)


def rehearse_on(url, args, log_dir):
    os.environ["LEPTON_DATABASE_URL"] = url
    os.environ["LEPTON_RESTRICTED_JOB_TYPES"] = ""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lepton.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connections

    from tests.cluster.rehearsal import CLUSTER_USER, RehearsalConfig, RehearsalFailed
    from tests.cluster.run import run_rehearsal
    from tests.cluster.stack import skew_unavailable_reason

    if reason := skew_unavailable_reason():
        print(f"[cluster] cannot run here: {reason}", file=sys.stderr)
        sys.exit(2)
    call_command("migrate", interactive=False, verbosity=0)
    get_user_model().objects.get_or_create(username=CLUSTER_USER)
    config = RehearsalConfig(
        subtasks=args.subtasks, sleep_ms=args.sleep_ms, rejoin_subtasks=args.subtasks // 2, hold_cut_seconds=args.hold_cut,
        timeout=300.0,
    )
    print(f"[cluster] {config}; logs in {log_dir}", flush=True)
    try:
        return run_rehearsal(config, dict(os.environ), log_dir, url)
    except RehearsalFailed as exc:
        print(f"[cluster] FAILED: {exc}; logs in {log_dir}", file=sys.stderr)
        sys.exit(1)
    finally:
        # The throwaway database is dropped next: let go of it first.
        connections.close_all()


if __name__ == "__main__":
    main()

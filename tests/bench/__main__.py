"""Entry point: choose the bench's own Redis, database and data folder, then run.

They go into the environment before Django reads its settings, so this process and
every process it starts use them and nothing of a `make run` or a test session.
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

import django

#: Raised for every process of the bench, so admission control, API throttling and job-type
#: restrictions never refuse a request here (the scenarios measure speed, not those limits).
RAISED_LIMITS = {
    "LEPTON_MAX_ACTIVE_JOBS_PER_USER": "1000000",
    # The backlog scenario keeps 1,000,000 subtasks outstanding (the defaults: 500,000 per
    # user, 2,000,000 in all).
    "LEPTON_MAX_OUTSTANDING_SUBTASKS_PER_USER": "10000000",
    "LEPTON_MAX_OUTSTANDING_SUBTASKS": "10000000",
    "LEPTON_API_RATE": "1000000/minute",
    "LEPTON_RESTRICTED_JOB_TYPES": "",
}


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("scenarios", nargs="*", help="scenario or group names (default: all)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each scenario (default 3)")
    parser.add_argument("--quick", action="store_true", help="one repetition and smaller sizes: a smoke run")
    parser.add_argument(
        "--database", choices=["sqlite", "postgres"], default="sqlite",
        help="sqlite (default: fresh files) or postgres (a throwaway database on LEPTON_BENCH_POSTGRES_URL, "
        "dropped after the run); LEPTON_BENCH_DATABASE_URL, if set, names the database to use instead",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat = 1
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def environment(run_dir, database_url):
    """database_url: a PostgreSQL database for Lepton and the peer to share (their tables
    are apart), or None for SQLite, where each gets its own file."""
    data_dir = run_dir / "data"
    return {
        "DJANGO_SETTINGS_MODULE": "lepton.settings",
        "LEPTON_DATA_DIR": str(data_dir),
        "LEPTON_DATABASE_URL": database_url or f"sqlite:///{data_dir / 'lepton.sqlite3'}",
        "PEER_DATABASE_URL": database_url or f"sqlite:///{data_dir / 'peer.sqlite3'}",
        "LEPTON_BROKER_URL": f"redis+socket://{run_dir / 'redis.sock'}",
        "LEPTON_TASK_EVENTS": "false",
        # Workers stop gracefully on SIGTERM, as under `make run`.
        "REMAP_SIGTERM": "SIGQUIT",
        **RAISED_LIMITS,
    }


def main():
    args = parse_args(sys.argv[1:])
    given = os.environ.get("LEPTON_BENCH_DATABASE_URL")
    if given or args.database == "sqlite":
        return measure(args, given)
    from tests.bench.postgres import throwaway_database

    with throwaway_database() as url:
        return measure(args, url)


def measure(args, database_url):
    # A short folder: unix socket paths must stay under about 100 characters.
    run_dir = Path(tempfile.mkdtemp(prefix="lepton-bench-", dir="/tmp"))
    os.environ.update(environment(run_dir, database_url))
    django.setup()
    # Imported only now: the bench modules use Django models.
    from tests.bench.cli import run

    return run(args, run_dir, RAISED_LIMITS)


if __name__ == "__main__":
    sys.exit(main())

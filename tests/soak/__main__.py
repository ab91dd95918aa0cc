"""`make soak` / `python -m tests.soak --minutes 10 --seed 7`: the long soak, outside pytest.

It uses its own database: a fresh SQLite file under var/soak/ unless LEPTON_DATABASE_URL
names one (it is migrated; use a database for the soak alone), and its own embedded Redis
unless LEPTON_TEST_REDIS_URL names one (flushed; restarts are then not injected).
Exits 1 on any violation.
"""

import argparse
import os
import random
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def parse_args():
    parser = argparse.ArgumentParser(prog="python -m tests.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long faults and jobs go on (default 10)")
    parser.add_argument("--seed", type=int, default=None, help="the scheduler's seed (default: random, printed)")
    parser.add_argument("--workers", type=int, default=3, help="job workers kept alive (default 3)")
    parser.add_argument("--drain-seconds", type=float, default=240.0, help="how long jobs get to finish at the end")
    return parser.parse_args()


def main():
    args = parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    data_dir = Path(os.environ.get("LEPTON_DATA_DIR", ROOT / "var")).resolve()
    run_dir = data_dir / "soak" / datetime.now(timezone.utc).strftime("run-%Y%m%dT%H%M%SZ")
    (run_dir / "logs").mkdir(parents=True)
    os.environ.setdefault("LEPTON_DATABASE_URL", f"sqlite:///{run_dir / 'soak.sqlite3'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lepton.settings")
    print(f"[soak] seed {seed}, {args.minutes} min, logs in {run_dir / 'logs'}", flush=True)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from tests.soak.run import SOAK_USER, SoakConfig, print_report, run_soak, write_report
    from tests.soak.stack import SOAK_ENV

    call_command("migrate", interactive=False, verbosity=0)
    get_user_model().objects.get_or_create(username=SOAK_USER)
    config = SoakConfig(seed=seed, seconds=args.minutes * 60, workers=args.workers, drain_seconds=args.drain_seconds)
    env = {**os.environ, **SOAK_ENV}
    report = run_soak(config, env, run_dir / "logs", redis_url=os.environ.get("LEPTON_TEST_REDIS_URL"))
    print_report(report, write_report(report, data_dir / "soak"))
    sys.exit(1 if report["violations"] else 0)


if __name__ == "__main__":
    main()

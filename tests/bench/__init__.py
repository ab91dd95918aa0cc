"""Lepton's benchmarks against raw Celery, and its fairness checks (`make bench`).

    python -m tests.bench [scenario-or-group ...] [--repeat N] [--quick]

A run starts everything it measures and stops it all at the end, even on failure: an
embedded Redis and a fresh SQLite database in a new folder under /tmp (or, with
--database postgres, a throwaway PostgreSQL database; or the database
LEPTON_BENCH_DATABASE_URL names), Lepton's job worker (-c 2), control worker and beat,
a raw Celery worker for tests/bench/rawapp.py with the same worker settings, the peer's
worker and gunicorn (tests/bench/peer), and, for the HTTP scenarios, gunicorn as
`make run` starts it. Each scenario runs raw Celery (and the peer, where it applies)
and Lepton back to back, --repeat times (3 by default; --quick: once, with smaller sizes),
and the run ends with a table of medians, ratios and targets, also written to
var/bench/results-<timestamp>.json. A missed target is a FAIL row, not an error: the
exit code is non-zero only when a scenario could not be measured (a job failed, an
HTTP request was refused).

Modules: `harness` (processes, context), `runs` (running and timing work), `report`
(rows, targets, tables, JSON), `rawapp` (the raw Celery app), `peer/` (the Django +
Celery + django-celery-results peer), `worker_settings` (what both baselines share with
Lepton's workers), `postgres` (a throwaway database), `cli` (the scenario registry and
the run), and one module per group of scenarios: `pipeline`, `web`, `speedup`, `memory`,
`fairness`, `growth` and `fleet`.
"""

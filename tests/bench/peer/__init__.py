"""The peer baseline: plain Celery the way a Django team wires it, for the bench only.

A Django project of its own (settings, urls, views, a Celery app) that Lepton never
imports: a JSON view validates the request and calls `apply_async`, `group` or
`chord`; django-celery-results stores every task's result in the database; the
client polls a status view over HTTP. It runs under gunicorn (2 workers, 4 threads,
as Lepton's web) and its own Celery worker with Lepton's worker settings, on the
bench's Redis and the same database engine as Lepton (SQLite: its own file with
Lepton's options; PostgreSQL: the same database, its tables apart). The harness
(tests/bench/harness.py) starts and stops it.
"""

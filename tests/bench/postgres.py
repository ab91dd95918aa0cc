"""A throwaway PostgreSQL database for one bench run (`--database postgres`).

Created on the server LEPTON_BENCH_POSTGRES_URL names (default: the machine's
PostgreSQL, 127.0.0.1:5432, user postgres, trust), named for this process so two
runs never share one, and dropped at the end even when the run fails.
"""

import os
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"


@contextmanager
def throwaway_database():
    """Yields the URL of a fresh, empty database; drops it (and its sessions) on exit."""
    server = os.environ.get("LEPTON_BENCH_POSTGRES_URL") or DEFAULT_SERVER
    name = f"lepton_bench_{os.getpid()}"
    _admin(server, f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    finally:
        _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin(server, statement):
    # CREATE/DROP DATABASE cannot run in a transaction.
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(statement)

"""One clock for every stamp that more than one host compares (invariant 11).

Leases, retry due times, queue ages and heartbeats are written by workers and read by
the reconciler on another host: stamped with each host's own clock, a worker whose clock
runs 13 s behind has every lease it renews look lapsed. They are stamped instead with
the database's clock, in the UPDATE itself (`Now()`, `lease_expiry()`), and compared
with it (`db_now()` read once per pass). SQLite has no server: its clock is the clock of
the process running the statement, which on a single host is the same for everyone.
"""

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models.functions import Now
from django.utils import timezone

__all__ = ["Now", "db_now", "lease_expiry", "later"]


def db_now():
    """The database's current time, as an aware datetime."""
    if connection.vendor != "postgresql":
        return timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT STATEMENT_TIMESTAMP()")
        return cursor.fetchone()[0]


def later(seconds):
    """An expression: the database's time `seconds` from now."""
    return Now() + timedelta(seconds=seconds)


def lease_expiry():
    """An expression: when a lease taken or renewed in this statement lapses."""
    return later(settings.LEPTON_LEASE_SECONDS)

"""The warning a worker logs when its lease renewals run late (jobs.leases)."""

import logging
import time

import pytest

from jobs import leases

RENEW_EVERY = 1.0  # a third of a 3 s lease


@pytest.fixture
def warnings(caplog):
    caplog.set_level(logging.WARNING, logger="jobs.leases")
    return lambda: [record.getMessage() for record in caplog.records if "lease_renewal_late" in record.getMessage()]


def test_a_renewal_more_than_two_thirds_of_a_lease_after_the_last_is_a_warning(warnings):
    leases._after_renewal(time.monotonic() - 2.5, RENEW_EVERY, held=[(7, 1)], jobs=[])

    [message] = warnings()
    assert "subtasks=1 jobs=0" in message
    assert float(message.split("seconds_since_last=")[1].split()[0]) >= 2.5


def test_renewals_on_time_say_nothing(warnings):
    leases._after_renewal(time.monotonic() - 1.2, RENEW_EVERY, held=[(7, 1)], jobs=[])

    assert warnings() == []


def test_an_idle_process_has_no_lease_to_lose(warnings):
    leases._after_renewal(time.monotonic() - 30, RENEW_EVERY, held=[], jobs=[])

    assert warnings() == []


def test_it_returns_when_the_renewal_ended():
    before = time.monotonic()
    assert before <= leases._after_renewal(before - 5, RENEW_EVERY, held=[], jobs=[]) <= time.monotonic()

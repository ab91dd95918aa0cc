"""`manage.py health`: the readiness checks, printed; non-zero exit on a failure."""

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from jobs.models import Housekeeping
from tests.monitoring import factories as make

pytestmark = pytest.mark.django_db


def test_it_prints_every_check_and_succeeds_when_nothing_fails(capsys):
    call_command("health")
    out = capsys.readouterr().out
    for name in ("database", "broker", "consumers", "reconciler"):
        assert name in out
    assert "status: warn" in out  # no workers and no reconciler pass yet


def test_it_reports_pass_when_all_is_well(capsys, settings):
    now = timezone.now()
    make.worker("all", now, queues=[*settings.LEPTON_QUEUES, settings.CONTROL_QUEUE])
    Housekeeping.objects.create(name="reconcile", last_succeeded_at=now)
    call_command("health")
    assert "status: pass" in capsys.readouterr().out


def test_it_exits_non_zero_when_the_broker_is_down(capsys, broker_down):
    with pytest.raises(CommandError, match="critical check failed"):
        call_command("health")
    assert "fail  broker" in capsys.readouterr().out

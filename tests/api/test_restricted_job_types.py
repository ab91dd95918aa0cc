"""Restricted job types (LEPTON_RESTRICTED_JOB_TYPES, issue 9.5): operators only.

The suite opens every type (tests/conftest.py); these tests put the default back.
"""

import os
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from jobs.models import Job
from jobs.submit import SubmissionError, submit_job
from tests.conftest import client_for


@pytest.fixture(autouse=True)
def restrict_diagnostic(settings):
    settings.LEPTON_RESTRICTED_JOB_TYPES = ["diagnostic"]


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user("operator", password="operator-password-1", is_staff=True)


def restricted_types_with(environment):
    """LEPTON_RESTRICTED_JOB_TYPES as settings.py reads it from `environment`."""
    env = {key: value for key, value in os.environ.items() if key != "LEPTON_RESTRICTED_JOB_TYPES"}
    code = "from django.conf import settings; print(settings.LEPTON_RESTRICTED_JOB_TYPES)"
    done = subprocess.run(
        [sys.executable, "-c", code], env={**env, **environment, "DJANGO_SETTINGS_MODULE": "lepton.settings"},
        capture_output=True, text=True, check=True, timeout=60,
    )
    return done.stdout.strip()


def test_diagnostic_is_restricted_by_default_and_an_empty_setting_opens_every_type():
    assert restricted_types_with({}) == "['diagnostic']"
    assert restricted_types_with({"LEPTON_RESTRICTED_JOB_TYPES": ""}) == "[]"
    assert restricted_types_with({"LEPTON_RESTRICTED_JOB_TYPES": "diagnostic, primes"}) == "['diagnostic', 'primes']"


def test_an_ordinary_user_gets_403_naming_the_type_and_nothing_is_created(submit, creates_nothing):
    with creates_nothing():
        response = submit("diagnostic", {"subtasks": 100_000, "sleep_ms": 600_000})

    assert response.status_code == 403
    assert response.json() == {"type": ["Job type 'diagnostic' is restricted to operators; you may not submit it."]}


def test_staff_may_submit_a_restricted_type(submit, staff):
    response = submit("diagnostic", {"subtasks": 1}, client=client_for(staff))

    assert response.status_code == 201


def test_a_user_granted_the_permission_may_submit_it(submit, owner):
    owner.user_permissions.add(Permission.objects.get(codename="submit_restricted_job"))

    assert submit("diagnostic", {"subtasks": 1}).status_code == 201


def test_other_types_stay_open_to_everyone(submit):
    assert submit("wordcount", {"texts": ["a"]}).status_code == 201


def test_the_engine_refuses_it_too_so_the_cli_and_web_form_are_covered(owner):
    with pytest.raises(SubmissionError) as refused:
        submit_job(owner, "diagnostic", {"subtasks": 1})

    assert refused.value.status == 403
    assert Job.objects.count() == 0


def test_an_empty_setting_opens_every_type(settings, submit):
    settings.LEPTON_RESTRICTED_JOB_TYPES = []

    assert submit("diagnostic", {"subtasks": 1}).status_code == 201


def test_the_job_types_list_hides_a_restricted_type_from_users_who_cannot_run_it(api):
    names = [job_type["name"] for job_type in api.get("/api/job-types/").json()["results"]]

    assert "diagnostic" not in names and "wordcount" in names


def test_the_job_types_list_marks_it_for_users_who_can(staff):
    listed = {job_type["name"]: job_type["restricted"] for job_type in client_for(staff).get("/api/job-types/").json()["results"]}

    assert listed["diagnostic"] is True
    assert listed["wordcount"] is False

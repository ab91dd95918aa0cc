"""Shared fixtures: three users (owner, teammate, stranger) make isolation tests cheap."""

import os

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from jobs import tokens


#: The suite drives the platform with `diagnostic` jobs as ordinary users, so it opens
#: every job type (LEPTON_RESTRICTED_JOB_TYPES empty), here for the processes it starts
#: (CLI, workers, gunicorn) and below for this one, whose settings are already read.
#: tests/api/test_restricted_job_types.py puts the restriction back.
os.environ["LEPTON_RESTRICTED_JOB_TYPES"] = ""


@pytest.fixture(autouse=True)
def open_job_types(settings):
    settings.LEPTON_RESTRICTED_JOB_TYPES = []


def _user(name):
    return get_user_model().objects.create_user(name, password=f"{name}-password-123")


@pytest.fixture
def owner(db):
    return _user("owner")


@pytest.fixture
def stranger(db):
    return _user("stranger")


def client_for(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {tokens.issue(user)}")
    return client


@pytest.fixture
def api(owner):
    """An API client authenticated as `owner` with a real token."""
    return client_for(owner)


@pytest.fixture
def stranger_api(stranger):
    return client_for(stranger)

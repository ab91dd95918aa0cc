"""Shared fixtures: three users (owner, teammate, stranger) make isolation tests cheap, and
the session's broker.

The broker is defined here, once, so every folder (integration, monitoring, ...) shares
one fixture: a session fixture defined in two conftests runs twice.
"""

import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from jobs import tokens
from lepton.brokers import AMQP_MAX_PRIORITY
from lepton.celery import app as celery_app
from lepton.embedded_redis import EmbeddedRedis
from tests.brokers import ON_AMQP, TEST_BROKER_URL, AmqpBroker, RedisBroker


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


@pytest.fixture(scope="session")
def broker(tmp_path_factory):
    """The session's broker: an embedded Redis, or what LEPTON_TEST_BROKER_URL (or
    LEPTON_TEST_REDIS_URL) names — a Redis database flushed before and after, or a
    RabbitMQ vhost of the session's own (tests/brokers.py)."""
    # Point this process's Celery at the test broker before anything connects.
    assert celery_app._pool is None, "Celery connected before the broker fixture"
    if ON_AMQP:
        session = AmqpBroker(TEST_BROKER_URL, f"lepton-test-{os.getpid()}")
        celery_app.conf.update(broker_url=session.url, task_queue_max_priority=AMQP_MAX_PRIORITY)
        try:
            yield session
        finally:
            session.close()
        return
    if TEST_BROKER_URL:
        session = RedisBroker(TEST_BROKER_URL)
        session.flush()
        celery_app.conf.broker_url = session.url
        yield session
        session.flush()
        session.close()
        return
    # A short path: unix socket paths are limited to about 100 characters.
    run_dir = Path(tmp_path_factory.mktemp("redis", numbered=True))
    with EmbeddedRedis(run_dir / "redis.sock", run_dir / "redis.log") as embedded:
        celery_app.conf.broker_url = embedded.url
        session = RedisBroker(embedded.url, embedded.client())
        yield session
        session.close()

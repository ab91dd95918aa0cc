"""Shared fixtures: three users (owner, teammate, stranger) make isolation tests cheap."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


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
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def api(owner):
    """An API client authenticated as `owner` with a real token."""
    return client_for(owner)


@pytest.fixture
def stranger_api(stranger):
    return client_for(stranger)

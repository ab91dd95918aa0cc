"""API tokens are stored as SHA-256 digests (issue 9, finding 10); old plain keys keep working."""

import hashlib
import importlib
from datetime import timedelta

from django.apps import apps
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from jobs import tokens
from jobs.models import ApiToken

hashing_migration = importlib.import_module("jobs.migrations.0008_hash_existing_api_tokens")


def test_it_authenticates_by_the_key_s_digest_and_stamps_its_use(owner):
    key = tokens.issue(owner)

    response = APIClient(HTTP_AUTHORIZATION=f"Token {key}").get("/api/jobs/")

    stored = ApiToken.objects.get(user=owner)
    assert response.status_code == 200
    assert stored.digest == hashlib.sha256(key.encode()).hexdigest() and stored.prefix == key[:8]
    assert stored.last_used_at is not None


def test_it_stamps_the_last_use_at_most_once_a_minute(owner):
    key = tokens.issue(owner)
    a_moment_ago = timezone.now() - timedelta(seconds=5)
    ApiToken.objects.filter(user=owner).update(last_used_at=a_moment_ago)

    APIClient(HTTP_AUTHORIZATION=f"Token {key}").get("/api/jobs/")

    assert ApiToken.objects.get(user=owner).last_used_at == a_moment_ago


def test_an_inactive_user_s_token_is_refused(owner):
    key = tokens.issue(owner)
    owner.is_active = False
    owner.save()

    assert APIClient(HTTP_AUTHORIZATION=f"Token {key}").get("/api/jobs/").status_code == 401


def test_the_migration_hashes_existing_plain_keys_and_drops_them(transactional_db, owner):
    plain = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp, user_id integer)")
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, %s, %s)", [plain, timezone.now(), owner.pk])

    with connection.schema_editor() as editor:
        hashing_migration.hash_existing_keys(apps, editor)

    assert "authtoken_token" not in connection.introspection.table_names()
    assert APIClient(HTTP_AUTHORIZATION=f"Token {plain}").get("/api/jobs/").status_code == 200
    assert ApiToken.objects.get(user=owner).prefix == plain[:8]

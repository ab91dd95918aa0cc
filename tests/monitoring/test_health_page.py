"""The health page: staff with monitoring.view_health, linked from the admin index."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jobs.models import RecoveryEvent, Subtask
from monitoring import history
from tests.monitoring import factories as make

pytestmark = pytest.mark.django_db

URL = "/admin/monitoring/health/"


def staff(name, *permissions, superuser=False):
    user = get_user_model().objects.create_user(name, password=f"{name}-pw-12345", is_staff=True, is_superuser=superuser)
    for codename in permissions:
        user.user_permissions.add(Permission.objects.get(codename=codename, content_type__app_label="monitoring"))
    return user


@pytest.fixture
def admin_client(client):
    client.force_login(staff("root", superuser=True))
    return client


def test_a_user_who_is_not_staff_is_sent_to_the_login_page(client, owner):
    client.force_login(owner)
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_staff_without_the_permission_are_refused(client):
    client.force_login(staff("nobody"))
    assert client.get(URL).status_code == 403


def test_staff_with_view_health_see_it_and_find_it_on_the_admin_index(client):
    client.force_login(staff("viewer", "view_health"))
    assert client.get(URL).status_code == 200
    assert URL.encode() in client.get("/admin/").content


def test_it_shows_every_panel_and_the_flower_link(admin_client, settings):
    settings.LEPTON_FLOWER_URL = "http://flower.example:5555/"
    response = admin_client.get(URL)
    for title in (b"Workers", b"Queues", b"Throughput", b"History", b"Latency", b"Healing"):
        assert b"<h2>" + title + b"</h2>" in response.content
    assert b'href="http://flower.example:5555/"' in response.content


def test_it_draws_workers_queues_charts_and_links_failures_to_their_jobs(admin_client):
    now = timezone.now()
    make.worker("worker-a@host", now, queues=["cpu"])
    make.worker("worker-gone@host", now, seen_ago=600, queues=["cpu"])
    history.take(now - timedelta(minutes=3))
    job = make.job(type="primes", queue="cpu", total=3)
    make.finished_subtask(job, 0, Subtask.Status.FAILED, now - timedelta(minutes=2), error="ZeroDivisionError: boom")
    make.finished_subtask(job, 1, Subtask.Status.SUCCEEDED, now - timedelta(minutes=2))
    RecoveryEvent.objects.create(kind=RecoveryEvent.Kind.LEASE_LAPSED, job=job, subtask_index=2, worker="worker-gone@host")
    history.take(now)

    page = admin_client.get(URL).content.decode()

    assert "worker-a@host" in page and "heartbeat timeout" in page
    assert "<polyline" in page or "<circle" in page  # the throughput chart has a mark
    assert "ZeroDivisionError: boom" in page
    assert f'href="/admin/jobs/job/{job.pk}/change/"' in page
    assert "lease_lapsed" in page
    assert "<script" not in page.split('id="health"')[1]
    assert 'style="' not in page.split('id="health"')[1]


def test_the_page_costs_a_bounded_number_of_queries(admin_client, django_assert_num_queries):
    """The same number of queries for 2 workers and jobs as for 20: no query per row."""

    def fleet(first, last):
        now = timezone.now()
        for n in range(first, last):
            make.worker(f"w{n}", now, seen_ago=n)
            job = make.job(total=5)
            make.subtask(job, 0, Subtask.Status.QUEUED, queued_at=now)
            make.finished_subtask(job, 1, Subtask.Status.FAILED, now, error="x")

    fleet(0, 2)
    admin_client.get(URL)  # the first render fills the caches (charts, concurrency)
    with CaptureQueriesContext(connection) as small:
        assert admin_client.get(URL).status_code == 200
    fleet(2, 20)
    with django_assert_num_queries(len(small.captured_queries)):
        assert admin_client.get(URL).status_code == 200
    # Nine panels, each a few aggregates.
    assert len(small.captured_queries) <= 40

"""GET /livez and /healthz: the process answers, without touching the database."""

import pytest


@pytest.mark.parametrize("path", ["/livez", "/healthz"])
def test_it_answers_200_without_any_query(client, path, django_assert_num_queries, db):
    with django_assert_num_queries(0):
        response = client.get(path)
    assert response.status_code == 200
    assert response.content == b"ok\n"


def test_it_answers_a_probe_by_ip_address_not_in_allowed_hosts(client, db):
    response = client.get("/livez", HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200


def test_other_paths_still_check_the_host(client, db):
    assert client.get("/readyz", HTTP_HOST="10.1.2.3:8000").status_code == 400

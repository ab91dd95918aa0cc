"""Issue 9.4: slow clients do not stall the web tier.

The attack: 40 connections to `make run`'s web server (its exact command line) that
send nothing or half a request and then go quiet; then a normal authenticated request
must answer within a second. Figures: run with -s.
"""

import socket
import time

import pytest
import requests
from jobs import tokens

from lepton.run import process_commands
from tests.security.servers import running

#: The brief's ports for this area: 8140-8149.
PORT = 8141
SLOW_CLIENTS = 40


@pytest.fixture
def web(transactional_db, settings, tmp_path):
    settings.LEPTON_BIND = "127.0.0.1"
    settings.LEPTON_PORT = PORT
    with running("web", process_commands()["web"], tmp_path, port=PORT):
        yield f"http://127.0.0.1:{PORT}"


def slow_clients(count):
    """Half idle (connected, silent), half half-open (a request line and one header)."""
    sockets = []
    for i in range(count):
        sock = socket.create_connection(("127.0.0.1", PORT))
        if i % 2:
            sock.sendall(b"GET /api/jobs/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        sockets.append(sock)
    return sockets


def test_a_normal_request_answers_within_a_second_beside_forty_slow_clients(web, owner):
    url = web
    token = tokens.issue(owner)
    headers = {"Authorization": f"Token {token}"}
    for _ in range(10):  # every process and thread has loaded Django and opened the database
        requests.get(f"{url}/api/jobs/", headers=headers, timeout=30)

    sockets = slow_clients(SLOW_CLIENTS)
    try:
        time.sleep(1)  # the server has accepted them all
        latencies = []
        for _ in range(5):
            started = time.perf_counter()
            response = requests.get(f"{url}/api/jobs/", headers=headers, timeout=30)
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200
    finally:
        for sock in sockets:
            sock.close()

    print(f"\nbeside {SLOW_CLIENTS} slow clients: " + ", ".join(f"{s * 1000:.0f} ms" for s in latencies))
    assert max(latencies) < 1.0


def test_the_server_reads_request_bodies_and_sets_cookies(web, owner):
    """The worker class is a whole web server: a JSON POST and the admin's cookies."""
    url = web
    token = tokens.issue(owner)

    submitted = requests.post(
        f"{url}/api/jobs/", json={"type": "wordcount", "params": {"texts": ["a b a"]}},
        headers={"Authorization": f"Token {token}"}, timeout=30,
    )
    login_page = requests.get(f"{url}/admin/login/", timeout=30)

    assert submitted.status_code == 201, submitted.text
    assert login_page.status_code == 200 and "csrftoken" in login_page.cookies

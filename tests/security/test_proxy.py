"""The compose proxy's nginx configuration (deploy/nginx/lepton.conf.template), run by a
local nginx in front of `make run`'s web server: it buffers slow clients, limits bodies,
serves static files and drops requests for unknown host names.

Skipped where nginx is not installed (Debian: apt-get install nginx-light).
"""

import os
import shutil
import socket
import subprocess
import time

import pytest
import requests
from jobs import tokens

from lepton.run import process_commands
from tests.processes import ROOT
from tests.security.servers import running

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
#: The brief's ports for this area: 8140-8149.
PROXY_PORT, WEB_PORT = 8146, 8147

pytestmark = pytest.mark.skipif(not shutil.which(NGINX), reason="nginx is not installed")


def render(tmp_path):
    """The template as the nginx image would render it, pointed at local processes."""
    template = (ROOT / "deploy" / "nginx" / "lepton.conf.template").read_text()
    site = (
        template.replace("${LEPTON_SERVER_NAME}", "localhost 127.0.0.1")
        .replace("server web:8000;", f"server 127.0.0.1:{WEB_PORT};")
        .replace("server flower:5555;", "server 127.0.0.1:9;")
        .replace("listen 8080", f"listen 127.0.0.1:{PROXY_PORT}")
        .replace("/srv/lepton/static/", f"{tmp_path}/static/")
    )
    temp = tmp_path / "nginx-temp"
    temp.mkdir(mode=0o777)
    temp.chmod(0o777)
    conf = tmp_path / "nginx.conf"
    # As root, nginx would run its workers as `nobody`, who cannot read pytest's 0700 folders.
    user = "user root;" if os.geteuid() == 0 else ""
    conf.write_text(
        f"""
{user}
daemon off;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/nginx-error.log info;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    access_log {tmp_path}/nginx-access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{site}
}}
"""
    )
    return conf


@pytest.fixture
def proxy(transactional_db, settings, tmp_path):
    settings.LEPTON_BIND, settings.LEPTON_PORT = "127.0.0.1", WEB_PORT
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "hello.txt").write_text("static hello")
    conf = render(tmp_path)
    check = subprocess.run([NGINX, "-t", "-c", str(conf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    with running("web", process_commands()["web"], tmp_path, port=WEB_PORT):
        with running("nginx", [NGINX, "-c", str(conf)], tmp_path, port=PROXY_PORT):
            yield f"http://127.0.0.1:{PROXY_PORT}"


def test_it_serves_static_files_itself(proxy):
    response = requests.get(f"{proxy}/static/hello.txt", timeout=30)

    assert response.status_code == 200 and response.text == "static hello"


def test_a_normal_request_answers_within_a_second_beside_forty_slow_clients(proxy, owner):
    headers = {"Authorization": f"Token {tokens.issue(owner)}"}
    for _ in range(10):
        assert requests.get(f"{proxy}/api/jobs/", headers=headers, timeout=30).status_code == 200
    sockets = []
    try:
        for i in range(40):
            sock = socket.create_connection(("127.0.0.1", PROXY_PORT))
            if i % 2:
                sock.sendall(b"POST /api/jobs/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n{")
            sockets.append(sock)
        time.sleep(1)
        latencies = []
        for _ in range(5):
            started = time.perf_counter()
            assert requests.get(f"{proxy}/api/jobs/", headers=headers, timeout=30).status_code == 200
            latencies.append(time.perf_counter() - started)
    finally:
        for sock in sockets:
            sock.close()
    print(f"\nthrough nginx beside 40 slow clients: " + ", ".join(f"{s * 1000:.0f} ms" for s in latencies))
    assert max(latencies) < 1.0


def test_it_refuses_a_body_over_the_limit(proxy):
    response = requests.post(
        f"{proxy}/api/jobs/", data=b"x" * (33 * 1024 * 1024), headers={"Content-Type": "application/json"}, timeout=60
    )

    assert response.status_code == 413


def test_it_drops_requests_for_unknown_host_names(proxy):
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{proxy}/admin/login/", headers={"Host": "attacker.example"}, timeout=30)
    assert requests.get(f"{proxy}/admin/login/", timeout=30).status_code == 200

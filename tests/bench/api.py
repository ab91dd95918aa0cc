"""A minimal JSON client over one keep-alive connection: Lepton's API (with a token) or the peer's."""

import http.client
import json


class ApiError(Exception):
    pass


class ApiClient:
    def __init__(self, port, token, timeout=120):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Token {token}"

    def request(self, method, path, body=None):
        """(status, the decoded JSON body, or the text of any other body)."""
        encoded = json.dumps(body) if body is not None else None
        try:
            self.connection.request(method, path, body=encoded, headers=self.headers)
            response = self.connection.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # The server closed the idle keep-alive connection (gunicorn's keepalive is
            # 2 s, and a scenario leaves a client idle while the other baselines run): the
            # request never reached a view, so it is sent again on a new connection.
            self.connection.close()
            self.connection.request(method, path, body=encoded, headers=self.headers)
            response = self.connection.getresponse()
        content = response.read()
        if response.getheader("Content-Type", "").startswith("application/json"):
            return response.status, json.loads(content)
        return response.status, content.decode(errors="replace")

    def submit(self, type_name, params):
        """The created job (a dict); ApiError unless the answer is 201."""
        status, data = self.request("POST", "/api/jobs/", {"type": type_name, "params": params})
        if status != 201:
            raise ApiError(f"POST /api/jobs/ answered {status}: {str(data)[:300]}")
        return data

    def close(self):
        self.connection.close()

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
        self.connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=self.headers)
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

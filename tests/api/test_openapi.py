"""GET /api/schema/ and /api/docs/: the API contract, generated from the code.

The live fuzzing of the API against this schema is tests/integration/test_api_fuzz.py.
"""

import re

import pytest
from django.core.management import call_command
from django.test import Client

SCHEMA_URL = "/api/schema/"
OPERATIONS = {
    ("get", "/api/jobs/"),
    ("post", "/api/jobs/"),
    ("get", "/api/jobs/{id}/"),
    ("post", "/api/jobs/{id}/cancel/"),
    ("post", "/api/jobs/{id}/retry/"),
    ("get", "/api/jobs/{id}/subtasks/"),
    ("get", "/api/jobs/{id}/params/"),
    ("delete", "/api/jobs/{id}/"),
    ("get", "/api/job-types/"),
}


@pytest.fixture
def anonymous():
    return Client()


@pytest.fixture
def schema(anonymous):
    response = anonymous.get(SCHEMA_URL, HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def operations(schema):
    return {
        (method, path): operation
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }


def test_it_serves_an_openapi_3_schema_without_login(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Lepton API"


def test_it_describes_every_endpoint_and_nothing_else(schema):
    assert set(operations(schema)) == OPERATIONS


def test_the_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


@pytest.mark.parametrize("method, path", sorted(OPERATIONS))
def test_every_endpoint_documents_401_and_429_with_retry_after(schema, method, path):
    responses = operations(schema)[(method, path)]["responses"]
    assert {"401", "429"} <= set(responses)
    assert "Retry-After" in responses["429"]["headers"]


@pytest.mark.parametrize(
    "method, path, codes",
    [
        ("post", "/api/jobs/", {"201", "200", "400", "409", "429"}),
        ("get", "/api/jobs/", {"200", "400", "404"}),
        ("get", "/api/jobs/{id}/", {"200", "404"}),
        ("post", "/api/jobs/{id}/cancel/", {"200", "404", "409"}),
        ("post", "/api/jobs/{id}/retry/", {"200", "404", "409", "429"}),
        ("delete", "/api/jobs/{id}/", {"204", "404", "409"}),
        ("get", "/api/jobs/{id}/params/", {"200", "404"}),
        ("get", "/api/jobs/{id}/subtasks/", {"200", "404"}),
    ],
)
def test_each_endpoint_documents_its_answers(schema, method, path, codes):
    assert codes <= set(operations(schema)[(method, path)]["responses"])


def test_a_bad_request_is_described_as_an_object_of_field_errors(schema):
    bad_request = operations(schema)[("post", "/api/jobs/")]["responses"]["400"]["content"]["application/json"]
    assert bad_request["schema"]["type"] == "object"
    assert set(bad_request["examples"]) >= {"UnknownType", "BadParameter", "NotJSON"}


def test_admission_refusal_is_described_with_limit_and_value(schema):
    refused = schema["components"]["schemas"]["AdmissionRefused"]
    assert set(refused["properties"]) == {"detail", "limit", "value"}


def test_a_job_shows_its_progress_and_a_job_type_its_params(schema):
    components = schema["components"]["schemas"]
    assert set(components["Progress"]["properties"]) == {"total", "done", "failed", "running"}
    assert components["JobType"]["properties"]["params"]["type"] == "array"


def test_the_docs_page_loads_its_assets_from_this_server_without_inline_script(anonymous):
    response = anonymous.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    sources = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]*)"', page)
    assert sources and all(src.startswith("/") for src in sources), sources
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == [], "an inline script"
    assert "/api/docs/?script=" in sources


def test_the_docs_script_and_assets_are_served(anonymous):
    script = anonymous.get("/api/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert SCHEMA_URL in script.content.decode()
    bundle = anonymous.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert bundle.status_code == 200


def test_an_unrouted_api_path_is_a_json_404(api):
    response = api.get("/api/jobs/1.5/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_an_unrouted_page_outside_the_api_stays_html(anonymous):
    response = anonymous.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")

"""The commitments endpoints are in the OpenAPI schema with request and response shapes."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    ("/api/v1/cases/", "get"),
    ("/api/v1/cases/", "post"),
    ("/api/v1/cases/{id}/", "get"),
    ("/api/v1/cases/{id}/respond/", "post"),
    ("/api/v1/cases/{id}/status/", "post"),
    ("/api/v1/playbooks/", "get"),
    ("/api/v1/playbooks/{id}/", "get"),
    ("/api/v1/results/", "get"),
}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_every_commitments_endpoint_is_documented(schema):
    validate_schema(schema)
    documented = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert ENDPOINTS <= documented
    for path, method in ENDPOINTS:
        operation = schema["paths"][path][method]
        assert any(code.startswith("2") for code in operation["responses"]), (path, method)
        if method == "post":
            assert "requestBody" in operation, (path, method)


def test_results_are_json_or_csv_and_their_errors_json_only(schema):
    operation = schema["paths"]["/api/v1/results/"]["get"]
    assert set(operation["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    assert set(operation["responses"]["400"]["content"]) == {"application/json"}
    assert {p["name"] for p in operation["parameters"]} >= {"quarters", "format"}


def test_case_enums_have_their_own_names(schema):
    components = schema["components"]["schemas"]
    assert components["CaseStatusEnum"]["enum"] == ["open", "in_progress", "resolved", "closed"]
    assert components["CaseKindEnum"]["enum"] == ["complaint", "request", "incident"]

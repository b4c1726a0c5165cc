"""The workbench endpoints are in the OpenAPI schema with their request and response shapes, and
every error they may answer uses the one error envelope."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    ("/api/v1/activities/", "get"),
    ("/api/v1/activities/", "post"),
    ("/api/v1/tasks/", "get"),
    ("/api/v1/tasks/", "post"),
    ("/api/v1/tasks/{id}/", "get"),
    ("/api/v1/tasks/{id}/", "patch"),
    ("/api/v1/tasks/{id}/complete/", "post"),
    ("/api/v1/tasks/{id}/cancel/", "post"),
    ("/api/v1/contact-due/", "get"),
}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_the_schema_with_the_workbench_endpoints_is_valid(schema):
    validate_schema(schema)
    documented = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert ENDPOINTS <= documented
    assert not {path for path, _method in documented if path.startswith("/api/v1/contact-due/{")}  # a list only


def test_each_operation_documents_its_shapes_errors_and_an_example_body(schema):
    for path, method in ENDPOINTS:
        operation = schema["paths"][path][method]
        assert any(code.startswith("2") for code in operation["responses"]), (path, method)
        for code in ("400", "401", "403", "404"):
            assert operation["responses"][code]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
        if method in {"post", "patch"}:
            assert "409" in operation["responses"]
            examples = operation["requestBody"]["content"]["application/json"]["examples"]
            assert examples, (path, method)


def test_the_filters_are_documented(schema):
    names = {
        path: {parameter["name"] for parameter in schema["paths"][path]["get"]["parameters"]}
        for path in ("/api/v1/activities/", "/api/v1/tasks/", "/api/v1/contact-due/")
    }
    assert {"customer", "kind", "since", "until", "cursor"} <= names["/api/v1/activities/"]
    assert {"customer", "status", "source", "priority", "owner", "bucket", "ordering"} <= names["/api/v1/tasks/"]
    assert {"state", "tier", "cursor", "page_size"} <= names["/api/v1/contact-due/"]

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    ("/api/v1/customers/", "get"),
    ("/api/v1/customers/", "post"),
    ("/api/v1/customers/{code}/", "get"),
    ("/api/v1/customers/{code}/", "patch"),
    ("/api/v1/customers/{code}/score/", "get"),
    ("/api/v1/customers/{code}/history/", "get"),
    ("/api/v1/customers/{code}/override/", "post"),
    ("/api/v1/customers/{code}/override/", "delete"),
    ("/api/v1/orders/", "post"),
    ("/api/v1/surveys/", "post"),
    ("/api/v1/interactions/", "post"),
    ("/api/v1/industries/", "get"),
    ("/api/v1/industries/", "post"),
    ("/api/v1/industries/{code}/", "patch"),
    ("/api/v1/tiers/", "get"),
    ("/api/v1/score-profiles/", "get"),
    ("/api/v1/score-profiles/{id}/", "patch"),
    ("/api/v1/tier-changes/", "get"),
    ("/api/v1/tier-runs/", "post"),
    ("/api/v1/tier-runs/{id}/", "get"),
}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_schema_is_valid_openapi_3(schema):
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")


def test_every_endpoint_is_documented_with_request_and_response_shapes(schema):
    documented = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert ENDPOINTS <= documented
    for path, method in ENDPOINTS:
        operation = schema["paths"][path][method]
        success = [code for code in operation["responses"] if code.startswith("2")]
        assert success, (path, method)
        if method in {"post", "patch"}:
            assert "requestBody" in operation, (path, method)


def test_errors_are_documented_with_the_envelope(schema):
    operation = schema["paths"]["/api/v1/orders/"]["post"]
    for code in ("400", "401", "403", "413", "429"):
        assert operation["responses"][code]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")


def test_schema_and_docs_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower() and "https://" not in html

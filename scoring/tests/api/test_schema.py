"""The backtest endpoints are in the OpenAPI schema with their request and response shapes."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_the_backtest_endpoints_are_documented(schema):
    validate_schema(schema)
    start = schema["paths"]["/api/v1/backtests/"]["post"]
    assert "202" in start["responses"] and "requestBody" in start
    request = start["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    fields = schema["components"]["schemas"][request]["properties"]
    assert {"kind", "as_of", "draft", "thresholds", "calibrate", "profile", "objective", "fit_as_of", "bounds"} <= set(
        fields
    )
    assert start["responses"]["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    read = schema["paths"]["/api/v1/backtests/{id}/"]["get"]
    body = read["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert {"status", "progress", "result", "parameters"} <= set(schema["components"]["schemas"][body]["properties"])

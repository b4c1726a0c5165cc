"""Property-based run of every documented operation against the app, as an admin token.

Bounded and reproducible: a fixed seed and a few examples per operation. Checks that nothing
answers 5xx and that every response (status, content type, body) matches the schema."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from knox.models import AuthToken
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from crm.tests.factories import CustomerFactory, OrderFactory

# Valid inputs, then deliberately invalid ones (wrong types, out-of-range values, missing fields).
MODES = [(GenerationMode.POSITIVE, 25), (GenerationMode.NEGATIVE, 15)]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def keep_test_connection():
    """Requests go straight to the WSGI app, so stop Django closing the test's (transactional)
    database connection at the end of each request, as django.test.Client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.slow
@pytest.mark.django_db
def test_api_conforms_to_its_schema(admin_user, manager, keep_test_connection):
    customer = CustomerFactory(account_manager=manager)
    OrderFactory(customer=customer)
    _instance, key = AuthToken.objects.create(admin_user)
    headers = {"Authorization": f"Token {key}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?lang=en", get_wsgi_application())

    failures = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        path_parameters = {"code": customer.code} if "/customers/{code}/" in operation.path else None
        for mode, max_examples in MODES:

            @seed(20261122)
            @settings(
                max_examples=max_examples,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(mode, path_parameters=path_parameters))
            def check(case):
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                check()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing in this operation can be made invalid
            except (Exception, FailureGroup) as exc:  # collect every operation's failures, report them together
                failures[f"{operation.label} ({mode.value})"] = f"{type(exc).__name__}: {str(exc)[:3000]}"
    assert not failures, "\n\n".join(f"{label}\n{message}" for label, message in failures.items())

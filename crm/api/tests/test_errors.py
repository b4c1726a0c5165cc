import pytest
from rest_framework.test import APIClient

from core.api.throttling import TokenRateThrottle

pytestmark = pytest.mark.django_db


def test_invalid_token_is_401_with_error_body(customer):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get("/api/v1/customers/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_method_not_allowed_is_405_json(integration_api):
    response = integration_api.put("/api/v1/orders/", {}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_throttling_is_per_token_with_a_clear_429(api_client_for, integration_user, monkeypatch):
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"user": "2/min"})
    first, second = api_client_for(integration_user), api_client_for(integration_user)
    assert [first.get("/api/v1/tiers/").status_code for _ in range(2)] == [200, 200]
    response = first.get("/api/v1/tiers/")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert response.json()["error"]["retry_after_seconds"] > 0
    assert int(response["Retry-After"]) > 0
    assert second.get("/api/v1/tiers/").status_code == 200  # another token of the same user has its own quota


def test_session_login_works_for_browser_users(client, manager, customer):
    client.force_login(manager)
    response = client.get("/api/v1/customers/")
    assert response.status_code == 200
    assert response.json()["results"][0]["code"] == customer.code


def test_session_writes_need_csrf(manager, customer):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(manager)
    response = client.patch(f"/api/v1/customers/{customer.code}/", {"region": "华南"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_a_nul_character_is_refused_naming_the_field_or_the_row(integration_api, admin_api, customer):
    from crm.models import Order

    rows = [
        {"customer": customer.code, "amount": "10", "ordered_at": "2026-06-01", "source": "erp", "external_ref": "A"},
        {
            "customer": customer.code,
            "amount": "10",
            "ordered_at": "2026-06-01",
            "source": "erp",
            "external_ref": "B\x00",
        },
    ]
    response = integration_api.post("/api/v1/orders/", rows, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "malformed_request" and "NUL" in error["message"]
    assert error["fields"] == {"rows": [{"index": 1, "field": "external_ref", "message": error["message"]}]}
    assert not Order.objects.exists()

    response = admin_api.patch(f"/api/v1/customers/{customer.code}/", {"contact_person": "Wang\x00"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["contact_person"]
    customer.refresh_from_db()
    assert "\x00" not in customer.contact_person

import pytest

from crm.models import Industry

pytestmark = pytest.mark.django_db


def test_industries_list_with_names_and_strategic_flag(manager_api):
    response = manager_api.get("/api/v1/industries/")
    assert response.status_code == 200
    mfg = next(row for row in response.json() if row["code"] == "MFG")
    assert set(mfg) == {"code", "name_zh", "name_en", "strategic"}


def test_admin_creates_and_renames_an_industry(admin_api):
    payload = {"code": "QQ", "name_zh": "农业", "name_en": "Agriculture", "strategic": True}
    response = admin_api.post("/api/v1/industries/", payload, format="json")
    assert response.status_code == 201, response.json()
    response = admin_api.patch("/api/v1/industries/QQ/", {"name_en": "Farming"}, format="json")
    assert response.status_code == 200
    assert Industry.objects.get(code="QQ").name_en == "Farming"


def test_industry_code_is_validated_and_immutable(admin_api):
    response = admin_api.post("/api/v1/industries/", {"code": "agri1", "name_zh": "x", "name_en": "x"}, format="json")
    assert response.status_code == 400
    assert "code" in response.json()["error"]["fields"]
    response = admin_api.patch("/api/v1/industries/MFG/", {"code": "MFX"}, format="json")
    assert response.status_code == 400
    assert "code" in response.json()["error"]["fields"]


def test_integration_token_cannot_write_industries(integration_api):
    response = integration_api.post(
        "/api/v1/industries/", {"code": "QQ", "name_zh": "农业", "name_en": "Agri"}, format="json"
    )
    assert response.status_code == 403

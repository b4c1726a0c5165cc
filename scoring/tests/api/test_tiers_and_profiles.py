"""Tiers and scoring profiles through the API: everyone reads, staff administrators write."""

import pytest

from scoring.models import ScoringProfile, Tier

pytestmark = pytest.mark.django_db


def test_integration_token_cannot_write_tiers_or_rules(integration_api):
    assert integration_api.patch("/api/v1/tiers/vip/", {"min_score": 80}, format="json").status_code == 403
    profile = ScoringProfile.objects.get(is_default=True)
    assert (
        integration_api.patch(f"/api/v1/score-profiles/{profile.pk}/", {"rules": []}, format="json").status_code == 403
    )


def test_tiers_list_with_thresholds_shares_and_service_levels(manager_api):
    response = manager_api.get("/api/v1/tiers/")
    assert response.status_code == 200
    tiers = response.json()
    assert [t["code"] for t in tiers] == list(Tier.objects.order_by("rank").values_list("code", flat=True))
    assert all({"min_score", "target_share", "name_zh", "name_en", "service_level"} <= set(t) for t in tiers)


def test_admin_changes_a_threshold_with_the_admin_checks(admin_api):
    vip = Tier.objects.get(code="vip")
    response = admin_api.patch("/api/v1/tiers/vip/", {"min_score": "92.00"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["min_score"] == 92.0
    core = Tier.objects.get(rank=vip.rank + 1)
    response = admin_api.patch(f"/api/v1/tiers/{core.code}/", {"min_score": "95"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]
    assert Tier.objects.get(code=core.code).min_score == core.min_score


def test_profiles_list_with_rules(manager_api):
    response = manager_api.get("/api/v1/score-profiles/")
    assert response.status_code == 200
    default = next(p for p in response.json() if p["is_default"])
    assert sum(rule["weight"] for rule in default["rules"] if rule["category"] != "bonus") == 100


def _rules_of(api, profile):
    return api.get(f"/api/v1/score-profiles/{profile.pk}/").json()["rules"]


def test_admin_replaces_weights_and_the_version_goes_up(admin_api):
    profile = ScoringProfile.objects.get(is_default=True)
    rules = [{k: v for k, v in rule.items() if k != "position"} for rule in _rules_of(admin_api, profile)]
    spend = next(r for r in rules if r["metric"] == "spend_12m")
    frequency = next(r for r in rules if r["metric"] == "orders_12m")
    spend["weight"], frequency["weight"] = spend["weight"] + 5, frequency["weight"] - 5
    response = admin_api.patch(f"/api/v1/score-profiles/{profile.pk}/", {"rules": rules}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["version"] == profile.version + 1


def test_weights_that_do_not_add_up_are_rejected(admin_api):
    profile = ScoringProfile.objects.get(is_default=True)
    rules = [{k: v for k, v in rule.items() if k != "position"} for rule in _rules_of(admin_api, profile)]
    rules[0]["weight"] += 10
    response = admin_api.patch(f"/api/v1/score-profiles/{profile.pk}/", {"rules": rules}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]
    assert ScoringProfile.objects.get(pk=profile.pk).version == profile.version

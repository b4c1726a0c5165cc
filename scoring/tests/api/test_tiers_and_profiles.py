"""Tiers and scoring profiles through the API: everyone reads, staff administrators write."""

import pytest
from django.contrib.auth.models import Permission

from crm.tests.api_clients import client_for
from crm.tests.factories import UserFactory
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
    response = admin_api.patch("/api/v1/tiers/vip/", {"min_score": "92.00", "reason": "Fewer VIPs"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["min_score"] == 92.0
    core = Tier.objects.get(rank=vip.rank + 1)
    response = admin_api.patch(f"/api/v1/tiers/{core.code}/", {"min_score": "95", "reason": "x"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]
    assert Tier.objects.get(code=core.code).min_score == core.min_score


def test_a_tier_change_needs_a_reason_and_keeps_it_in_the_history(admin_api, admin_user):
    for body in ({"min_score": "92"}, {"min_score": "92", "reason": "  "}):
        response = admin_api.patch("/api/v1/tiers/vip/", body, format="json")
        assert response.status_code == 400
        assert list(response.json()["error"]["fields"]) == ["reason"]
    assert Tier.objects.get(code="vip").min_score == 90

    body = {"first_response_minutes": 10, "reason": "VIP desk staffed around the clock"}
    assert admin_api.patch("/api/v1/tiers/vip/", body, format="json").status_code == 200
    record = Tier.objects.get(code="vip").history.latest()
    assert (record.history_user, record.history_change_reason) == (admin_user, "VIP desk staffed around the clock")
    assert (record.prev_record.first_response_minutes, record.first_response_minutes) == (15, 10)


def test_profiles_list_with_rules(manager_api):
    response = manager_api.get("/api/v1/score-profiles/")
    assert response.status_code == 200
    default = next(p for p in response.json() if p["is_default"])
    assert sum(rule["weight"] for rule in default["rules"] if rule["category"] != "bonus") == 100
    assert (default["quantitative_points"], default["qualitative_points"]) == (60.0, 40.0)


def _rules_of(api, profile):
    return api.get(f"/api/v1/score-profiles/{profile.pk}/").json()["rules"]


def test_admin_replaces_weights_and_the_version_goes_up(admin_api):
    profile = ScoringProfile.objects.get(is_default=True)
    rules = [{k: v for k, v in rule.items() if k != "position"} for rule in _rules_of(admin_api, profile)]
    spend = next(r for r in rules if r["metric"] == "spend_12m")
    frequency = next(r for r in rules if r["metric"] == "orders_12m")
    spend["weight"], frequency["weight"] = spend["weight"] + 5, frequency["weight"] - 5
    body = {"rules": rules, "reason": "Spend over frequency"}
    response = admin_api.patch(f"/api/v1/score-profiles/{profile.pk}/", body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["version"] == profile.version + 1
    assert ScoringProfile.objects.get(pk=profile.pk).history.latest().history_change_reason == "Spend over frequency"


def test_weights_that_do_not_add_up_are_rejected(admin_api):
    profile = ScoringProfile.objects.get(is_default=True)
    rules = [{k: v for k, v in rule.items() if k != "position"} for rule in _rules_of(admin_api, profile)]
    rules[0]["weight"] += 10
    body = {"rules": rules, "reason": "More spend"}
    response = admin_api.patch(f"/api/v1/score-profiles/{profile.pk}/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]
    assert ScoringProfile.objects.get(pk=profile.pk).version == profile.version


def _default_rules_moved(api, profile, quantitative: int) -> list[dict]:
    """The default rules with spend (quantitative) and tenure (qualitative) moved by `quantitative` points."""
    rules = [{k: v for k, v in rule.items() if k != "position"} for rule in _rules_of(api, profile)]
    next(r for r in rules if r["metric"] == "spend_12m")["weight"] += quantitative
    next(r for r in rules if r["metric"] == "tenure_years")["weight"] -= quantitative
    return rules


def test_rules_in_another_split_no_longer_save_silently(admin_api):
    """Quantitative 65 / qualitative 35 adds up to 100, but the profile's split is 60 / 40."""
    profile = ScoringProfile.objects.get(is_default=True)
    body = {"rules": _default_rules_moved(admin_api, profile, 5), "reason": "More spend"}
    response = admin_api.patch(f"/api/v1/score-profiles/{profile.pk}/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "rules": [
            "Quantitative rules add up to 65; this profile's split gives quantitative 60.",
            "Qualitative rules add up to 35; this profile's split gives qualitative 40.",
        ]
    }
    stored = ScoringProfile.objects.get(pk=profile.pk)
    assert stored.version == profile.version and stored.rules.get(metric="spend_12m").weight == 30


def test_a_profile_change_needs_a_reason(admin_api):
    profile = ScoringProfile.objects.get(is_default=True)
    rules = _default_rules_moved(admin_api, profile, 0)
    response = admin_api.patch(f"/api/v1/score-profiles/{profile.pk}/", {"rules": rules}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["reason"]
    assert ScoringProfile.objects.get(pk=profile.pk).version == profile.version


def test_a_new_split_with_its_rules_and_a_reason_is_saved(admin_api):
    profile = ScoringProfile.objects.get(is_default=True)
    body = {
        "rules": _default_rules_moved(admin_api, profile, 5),
        "quantitative_points": 65,
        "qualitative_points": 35,
        "reason": "B2B buyers: spend says more than tenure",
    }
    response = admin_api.patch(f"/api/v1/score-profiles/{profile.pk}/", body, format="json")

    assert response.status_code == 200, response.json()
    assert (response.json()["quantitative_points"], response.json()["qualitative_points"]) == (65.0, 35.0)
    record = ScoringProfile.objects.get(pk=profile.pk).history.latest()
    assert record.history_change_reason == "B2B buyers: spend says more than tenure"
    assert (record.prev_record.quantitative_points, record.quantitative_points) == (60, 65)


def test_a_split_that_does_not_add_up_to_100_is_refused(admin_api):
    profile = ScoringProfile.objects.get(is_default=True)
    body = {"rules": _default_rules_moved(admin_api, profile, 5), "quantitative_points": 65, "reason": "x"}
    response = admin_api.patch(f"/api/v1/score-profiles/{profile.pk}/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "split": ["The split must add up to 100 points: quantitative 65 + qualitative 40 = 105."]
    }
    assert ScoringProfile.objects.get(pk=profile.pk).quantitative_points == 60


# --- the model permissions alone are not enough: writes need a staff account too ------------------


@pytest.fixture
def rules_clerk(db):
    """Holds every model permission the tier and profile writes name, through a token, but is not staff."""
    user = UserFactory(username="rules-clerk")
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="scoring", codename__in=["change_tier", "change_scoringprofile", "change_scorerule"]
        )
    )
    return user


def _spend_over_frequency(api, profile) -> list[dict]:
    """The default rules with 5 points moved from order frequency to spend, both quantitative: a valid edit."""
    rules = [{k: v for k, v in rule.items() if k != "position"} for rule in _rules_of(api, profile)]
    next(r for r in rules if r["metric"] == "spend_12m")["weight"] += 5
    next(r for r in rules if r["metric"] == "orders_12m")["weight"] -= 5
    return rules


def test_a_non_staff_token_with_the_model_permissions_may_not_write_tiers_or_rules(rules_clerk):
    assert rules_clerk.has_perms(["scoring.change_tier", "scoring.change_scoringprofile", "scoring.change_scorerule"])
    api = client_for(rules_clerk)
    profile = ScoringProfile.objects.get(is_default=True)
    tier_body = {"min_score": "92", "reason": "Fewer VIPs"}
    profile_body = {"rules": _spend_over_frequency(api, profile), "reason": "Spend over frequency"}

    tier = api.patch("/api/v1/tiers/vip/", tier_body, format="json")
    rules = api.patch(f"/api/v1/score-profiles/{profile.pk}/", profile_body, format="json")

    assert (tier.status_code, rules.status_code) == (403, 403)
    assert tier.json()["error"]["code"] == rules.json()["error"]["code"] == "permission_denied"
    assert Tier.objects.get(code="vip").min_score == 90
    stored = ScoringProfile.objects.get(pk=profile.pk)
    assert stored.version == profile.version and stored.rules.get(metric="spend_12m").weight == 30
    # The same requests succeed once the account is staff: staff status alone made the difference.
    rules_clerk.is_staff = True
    rules_clerk.save()
    assert api.patch("/api/v1/tiers/vip/", tier_body, format="json").status_code == 200
    assert api.patch(f"/api/v1/score-profiles/{profile.pk}/", profile_body, format="json").status_code == 200

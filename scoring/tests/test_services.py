from decimal import Decimal

import pytest

from crm.exceptions import DomainError
from scoring import services
from scoring.models import ScoreRule, ScoringProfile, Tier

# --- profile_rules_update ----------------------------------------------------------------------


def test_rules_update_changes_weights_and_bumps_version_once(default_profile, default_rules, admin_user):
    default_rules[0]["weight"] = 25  # spend
    default_rules[1]["weight"] = 25  # orders
    services.profile_rules_update(profile=default_profile, rules=default_rules, changed_by=admin_user)

    default_profile.refresh_from_db()
    assert default_profile.version == 2
    weights = dict(default_profile.rules.values_list("metric", "weight"))
    assert weights["spend_12m"] == Decimal("25") and weights["orders_12m"] == Decimal("25")
    latest = default_profile.history.latest()
    assert latest.version == 2 and latest.history_user == admin_user
    assert ScoreRule.history.filter(metric="spend_12m", history_type="~", history_user=admin_user).exists()


def test_rules_update_keeps_rule_rows_and_deletes_left_out_ones(default_profile, default_rules, admin_user):
    ids_before = dict(default_profile.rules.values_list("metric", "id"))
    strategic = default_rules.pop()  # strategic_potential, 10 points, moved to tenure
    default_rules[3]["weight"] = 15 + strategic["weight"]
    default_rules.append(
        {
            "metric": "referrals_12m",
            "category": "bonus",
            "weight": 5,
            "normalisation": "bands",
            "bands": [[1, 0.5], [3, 1]],
        }
    )
    services.profile_rules_update(profile=default_profile, rules=default_rules, changed_by=admin_user)

    ids_after = dict(default_profile.rules.values_list("metric", "id"))
    assert "strategic_potential" not in ids_after
    assert ids_after["spend_12m"] == ids_before["spend_12m"]
    assert ScoringProfile.objects.get(pk=default_profile.pk).version == 2
    assert default_profile.rules.get(metric="referrals_12m").bands == [[1.0, 0.5], [3.0, 1.0]]


def test_rules_update_refuses_bad_weights_and_writes_nothing(default_profile, default_rules, admin_user):
    default_rules[0]["weight"] = 25
    with pytest.raises(DomainError) as raised:
        services.profile_rules_update(profile=default_profile, rules=default_rules, changed_by=admin_user)

    assert raised.value.fields == {
        "rules": ["Quantitative and qualitative weights must add up to exactly 100; they add up to 95."]
    }
    default_profile.refresh_from_db()
    assert default_profile.version == 1
    assert default_profile.rules.get(metric="spend_12m").weight == Decimal("30")


def test_rules_update_refuses_a_rule_of_another_profile(default_profile, default_rules):
    other = ScoringProfile.objects.create(name="B2C")
    foreign = ScoreRule.objects.create(
        profile=other, metric="spend_12m", category="quantitative", weight=100, floor=0, cap=1
    )
    default_rules[0]["id"] = foreign.pk
    with pytest.raises(DomainError) as raised:
        services.profile_rules_update(profile=default_profile, rules=default_rules)
    assert "rules[0].id" in raised.value.fields


# --- tiers_update ------------------------------------------------------------------------------


def test_tiers_update_changes_thresholds_and_keeps_history(admin_user):
    services.tiers_update(
        changes=[{"code": "vip", "min_score": 92, "target_share": 4}, {"code": "core", "min_score": 80}],
        changed_by=admin_user,
    )
    vip = Tier.objects.get(code="vip")
    assert vip.min_score == Decimal("92") and vip.target_share == Decimal("4")
    assert Tier.objects.get(code="core").min_score == Decimal("80")
    record = vip.history.latest()
    assert record.history_user == admin_user and record.prev_record.min_score == Decimal("90")


def test_tiers_update_checks_the_whole_resulting_set(admin_user):
    with pytest.raises(DomainError) as raised:
        services.tiers_update(changes=[{"code": "core", "min_score": 90}], changed_by=admin_user)
    assert "core.min_score" in raised.value.fields
    assert Tier.objects.get(code="core").min_score == Decimal("75")


def test_tiers_update_allows_swapping_in_one_call(db):
    services.tiers_update(changes=[{"code": "potential", "min_score": 50}, {"code": "ordinary", "min_score": 30}])
    assert Tier.objects.get(code="ordinary").min_score == Decimal("30")


def test_tiers_update_names_bad_fields(db):
    with pytest.raises(DomainError) as raised:
        services.tiers_update(changes=[{"code": "vip", "colour": "red", "rank": 3}, {"code": "nope", "min_score": 1}])
    assert raised.value.fields["code"] == ["Unknown tier code 'nope'."]
    assert "vip.rank" in raised.value.fields
    with pytest.raises(DomainError) as raised:
        services.tiers_update(changes=[{"code": "vip", "colour": "red"}])
    assert raised.value.fields["vip.colour"] == ["Colour must look like #1a2b3c."]
    assert Tier.objects.get(code="vip").colour == "#b45309"


def test_tiers_update_refuses_non_list(db):
    with pytest.raises(DomainError):
        services.tiers_update(changes={"code": "vip"})

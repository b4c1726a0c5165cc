import dataclasses
from decimal import Decimal

from scoring.engine import RuleSpec, TierSpec
from scoring.models import ScoreRule
from scoring.validation import (
    RULE_FIELDS,
    category_split_text,
    reason_clean,
    split_clean,
    validate_profile_rules,
    validate_tier_thresholds,
)

SPLIT = {"quantitative": Decimal(60), "qualitative": Decimal(40)}  # the method's default split


def rule(metric="spend_12m", category="quantitative", weight=60, **extra):
    return {"metric": metric, "category": category, "weight": weight, "floor": 0, "cap": 100, **extra}


def valid_rules():
    return [rule("spend_12m", "quantitative", 60), rule("tenure_years", "qualitative", 40)]


def test_the_rule_fields_are_the_engines_and_are_stored_on_every_rule():
    assert RULE_FIELDS == tuple(field.name for field in dataclasses.fields(RuleSpec))
    assert set(RULE_FIELDS) <= {field.name for field in ScoreRule._meta.get_fields()}


def test_a_valid_rule_set_has_no_errors():
    assert validate_profile_rules(valid_rules(), split=SPLIT) == {}


def test_rule_specs_are_accepted_as_well_as_dicts():
    specs = [
        RuleSpec("spend_12m", "quantitative", 60, floor=0, cap=10),
        RuleSpec("tenure_years", "qualitative", 40, floor=0, cap=5),
    ]
    assert validate_profile_rules(specs, split=SPLIT) == {}


def test_weights_not_adding_up_to_the_split_are_explained_with_the_sum():
    rules = [rule("spend_12m", "quantitative", 55), rule("tenure_years", "qualitative", 40)]
    errors = validate_profile_rules(rules, split=SPLIT)
    assert errors == {"rules": ["Quantitative rules add up to 55; this profile's split gives quantitative 60."]}


def test_a_total_of_100_in_the_wrong_split_is_refused_naming_each_category():
    rules = [rule("spend_12m", "quantitative", 65), rule("tenure_years", "qualitative", 35)]
    errors = validate_profile_rules(rules, split=SPLIT)
    assert errors == {
        "rules": [
            "Quantitative rules add up to 65; this profile's split gives quantitative 60.",
            "Qualitative rules add up to 35; this profile's split gives qualitative 40.",
        ]
    }


def test_rules_fit_another_split_when_the_profile_declares_it():
    rules = [rule("spend_12m", "quantitative", 65), rule("tenure_years", "qualitative", 35)]
    assert validate_profile_rules(rules, split={"quantitative": 65, "qualitative": 35}) == {}
    assert (
        validate_profile_rules([rule("spend_12m", "quantitative", 100)], split={"quantitative": 100, "qualitative": 0})
        == {}
    )


def test_the_split_itself_adds_up_to_100_within_0_to_100():
    assert split_clean(SPLIT) == (SPLIT, {})
    assert split_clean({"quantitative": 65, "qualitative": 40})[1] == {
        "split": ["The split must add up to 100 points: quantitative 65 + qualitative 40 = 105."]
    }
    errors = split_clean({"quantitative": 120, "qualitative": "x"})[1]
    assert errors == {
        "quantitative_points": ["The quantitative points must be between 0 and 100; they are 120."],
        "qualitative_points": ["The qualitative points must be a number."],
    }


def test_a_broken_split_is_reported_instead_of_the_rule_sums():
    errors = validate_profile_rules(valid_rules(), split={"quantitative": 60, "qualitative": 50})
    assert errors == {"split": ["The split must add up to 100 points: quantitative 60 + qualitative 50 = 110."]}


def test_a_reason_is_trimmed_text_or_none():
    assert reason_clean("  Q3 review \n") == "Q3 review"
    assert reason_clean("   ") is None and reason_clean(None) is None


def test_bonus_points_do_not_count_towards_the_100():
    rules = [*valid_rules(), rule("referrals_12m", "bonus", 5)]
    assert validate_profile_rules(rules, split=SPLIT) == {}
    assert category_split_text(rules) == "quantitative 60 / qualitative 40 / bonus 5"


def test_category_split_leaves_out_an_empty_bonus():
    assert category_split_text(valid_rules()) == "quantitative 60 / qualitative 40"


def test_negative_weight_is_refused():
    rules = [rule("spend_12m", "quantitative", 110), rule("tenure_years", "qualitative", -10)]
    errors = validate_profile_rules(rules, split=SPLIT)
    assert errors["rules[1].weight"] == ["Weight cannot be negative (-10)."]


def test_cap_must_be_above_floor():
    rules = [rule("spend_12m", "quantitative", 60, floor=500, cap=100), rule("tenure_years", "qualitative", 40)]
    assert validate_profile_rules(rules, split=SPLIT) == {
        "rules[0].cap": ["The cap (100) must be above the floor (500)."]
    }


def test_linear_needs_floor_and_cap():
    rules = [rule("spend_12m", "quantitative", 60, floor=None, cap=""), rule("tenure_years", "qualitative", 40)]
    errors = validate_profile_rules(rules, split=SPLIT)
    assert set(errors) == {"rules[0].floor", "rules[0].cap"}


def test_bands_must_ascend_and_shares_stay_within_one():
    bands_rule = rule("orders_12m", "quantitative", 60, normalisation="bands", bands=[[5, 0.5], [3, 1.5]])
    errors = validate_profile_rules([bands_rule, rule("tenure_years", "qualitative", 40)], split=SPLIT)
    assert errors["rules[0].bands"] == [
        "Band 2: the share of the weight must be between 0 and 1; it is 1.5.",
        "Band thresholds must be in ascending order: 3 comes after 5.",
    ]


def test_bands_normalisation_needs_bands():
    bands_rule = rule("orders_12m", "quantitative", 60, normalisation="bands", bands=[])
    errors = validate_profile_rules([bands_rule, rule("tenure_years", "qualitative", 40)], split=SPLIT)
    assert "rules[0].bands" in errors


def test_unknown_metric_and_choices_are_named():
    bad = rule("shoe_size", "quantitative", 60, direction="sideways")
    errors = validate_profile_rules([bad, rule("tenure_years", "qualitative", 40)], split=SPLIT)
    assert errors["rules[0].metric"][0].startswith("Unknown metric 'shoe_size'")
    assert "rules[0].direction" in errors


def test_a_metric_is_used_once_per_profile():
    rules = [rule("spend_12m", "quantitative", 60), rule("spend_12m", "qualitative", 40)]
    assert "rules[1].metric" in validate_profile_rules(rules, split=SPLIT)


def test_non_numbers_are_refused_by_field():
    rules = [rule("spend_12m", "quantitative", "lots"), rule("tenure_years", "qualitative", 40, missing_value="x")]
    errors = validate_profile_rules(rules, split=SPLIT)
    assert errors["rules[0].weight"] == ["Weight must be a number of points."]
    assert errors["rules[1].missing_value"] == ["'x' is not a number."]


def test_empty_rule_set_and_non_list_are_refused():
    assert "rules" in validate_profile_rules([], split=SPLIT)
    assert validate_profile_rules("spend", split=SPLIT) == {"rules": ["Rules must be a list."]}


def tiers(*scores):
    return [TierSpec(code=f"t{rank}", rank=rank, min_score=score) for rank, score in enumerate(scores, start=1)]


def test_strictly_descending_thresholds_are_valid():
    assert validate_tier_thresholds(tiers(90, 75, 60, 45, 0)) == {}


def test_equal_or_rising_thresholds_are_refused():
    errors = validate_tier_thresholds(tiers(90, 75, 75, 45, 0))
    assert errors["min_score"] == ["Thresholds must fall strictly from tier to tier: t3 (75) must be below t2 (75)."]
    assert "t3.min_score" in errors


def test_thresholds_outside_0_to_100_are_refused():
    errors = validate_tier_thresholds(
        [{"code": "vip", "rank": 1, "min_score": Decimal("101")}, {"code": "x", "rank": 2, "min_score": "a"}]
    )
    assert set(errors) == {"vip.min_score", "x.min_score"}

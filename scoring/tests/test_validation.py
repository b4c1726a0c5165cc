import dataclasses
from decimal import Decimal

import pytest
from django.utils import translation

from scoring.engine import RuleSpec, TierSpec
from scoring.models import ScoreRule
from scoring.validation import (
    RULE_FIELDS,
    category_split,
    category_split_text,
    reason_clean,
    rules_clean,
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
    rules = [rule("spend_12m", "quantitative", 60, floor=None, cap=" "), rule("tenure_years", "qualitative", 40)]
    assert validate_profile_rules(rules, split=SPLIT) == {
        "rules[0].floor": ["Linear normalisation needs a floor (the value that earns nothing)."],
        "rules[0].cap": ["Linear normalisation needs a cap (the value that earns full points)."],
    }


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
    assert errors == {"rules[0].bands": ["Bands normalisation needs at least one band, e.g. [[1, 0.5], [3, 1.0]]."]}


def test_unknown_metric_and_choices_are_named():
    bad = rule("shoe_size", "quantitative", 60, direction="sideways")
    errors = validate_profile_rules([bad, rule("tenure_years", "qualitative", 40)], split=SPLIT)
    assert errors == {
        "rules[0].metric": [
            "Unknown metric 'shoe_size'; choose one of: spend_12m, orders_12m, avg_order_value_12m, recency_days, "
            "tenure_years, satisfaction_12m, strategic_potential, referrals_12m, complaints_12m, social_shares_12m."
        ],
        "rules[0].direction": ["'sideways' is not a valid direction; choose one of: higher, lower."],
    }


def test_a_metric_is_used_once_per_profile():
    rules = [rule("spend_12m", "quantitative", 60), rule("spend_12m", "qualitative", 40)]
    assert validate_profile_rules(rules, split=SPLIT) == {
        "rules[1].metric": ["12-month spend already has a rule in this profile; use each metric once."]
    }


def test_non_numbers_are_refused_by_field():
    rules = [rule("spend_12m", "quantitative", "lots"), rule("tenure_years", "qualitative", 40, missing_value="x")]
    errors = validate_profile_rules(rules, split=SPLIT)
    assert errors["rules[0].weight"] == ["Weight must be a number of points."]
    assert errors["rules[1].missing_value"] == ["'x' is not a number."]


def test_empty_rule_set_and_non_list_are_refused():
    assert validate_profile_rules([], split=SPLIT) == {"rules": ["A scoring profile needs at least one rule."]}
    assert validate_profile_rules("spend", split=SPLIT) == {"rules": ["Rules must be a list."]}


def tiers(*scores):
    return [TierSpec(code=f"t{rank}", rank=rank, min_score=score) for rank, score in enumerate(scores, start=1)]


def test_strictly_descending_thresholds_are_valid():
    assert validate_tier_thresholds(tiers(90, 75, 60, 45, 0)) == {}


def test_equal_or_rising_thresholds_are_refused():
    errors = validate_tier_thresholds(tiers(90, 75, 75, 45, 0))
    assert errors == {
        "min_score": ["Thresholds must fall strictly from tier to tier: t3 (75) must be below t2 (75)."],
        "t3.min_score": ["Must be below t2's 75."],
    }


def test_thresholds_outside_0_to_100_are_refused():
    errors = validate_tier_thresholds(
        [{"code": "vip", "rank": 1, "min_score": Decimal("101")}, {"code": "x", "rank": 2, "min_score": "a"}]
    )
    assert set(errors) == {"vip.min_score", "x.min_score"}


# What a saved rule looks like, and the edges of each field.


def test_a_cleaned_rule_keeps_its_id_and_position_and_holds_decimals():
    rules = [
        {**rule("spend_12m", "quantitative", " 60 ", floor="0.00", cap="5000.00"), "id": 7, "position": 3},
        rule("orders_12m", "qualitative", "40.00", normalisation="bands", bands=[[1, "0.5"], ["3", 1]], floor=None),
    ]
    cleaned, errors = rules_clean(rules, split=SPLIT)
    assert errors == {}
    assert cleaned == [
        {
            "id": 7,
            "position": 3,
            "metric": "spend_12m",
            "category": "quantitative",
            "normalisation": "linear",  # the defaults a form may leave out
            "direction": "higher",
            "weight": Decimal(60),
            "floor": Decimal(0),
            "cap": Decimal(5000),
            "missing_value": None,
            "bands": [],
        },
        {
            "id": None,
            "position": 1,  # its place in the list when none is given
            "metric": "orders_12m",
            "category": "qualitative",
            "normalisation": "bands",
            "direction": "higher",
            "weight": Decimal(40),
            "floor": None,
            "cap": Decimal(100),
            "missing_value": None,
            "bands": [[Decimal(1), Decimal("0.5")], [Decimal(3), Decimal(1)]],
        },
    ]


@pytest.mark.parametrize("metric", [None, "", " "])
def test_a_rule_without_a_metric_asks_for_one(metric):
    rules = [rule(metric, "quantitative", 60), rule("tenure_years", "qualitative", 40)]
    assert validate_profile_rules(rules, split=SPLIT) == {"rules[0].metric": ["Choose a metric."]}


def test_an_unknown_field_is_named():
    rules = [rule("spend_12m", "quantitative", 60, colour="red"), rule("tenure_years", "qualitative", 40)]
    assert validate_profile_rules(rules, split=SPLIT) == {"rules[0].colour": ["Unknown field 'colour'."]}


def test_a_rule_without_a_category_is_refused_and_counts_for_no_category():
    rules = [rule("spend_12m", None, 60), rule("tenure_years", "qualitative", 40)]
    assert validate_profile_rules(rules, split=SPLIT) == {
        "rules[0].category": ["'' is not a valid category; choose one of: quantitative, qualitative, bonus."],
        "rules": ["Quantitative rules add up to 0; this profile's split gives quantitative 60."],
    }


def test_a_rule_that_is_neither_dict_nor_rulespec_is_a_programming_error():
    with pytest.raises(TypeError, match=r"^a rule must be a dict or a RuleSpec$"):
        validate_profile_rules([("spend_12m", "quantitative", 60)], split=SPLIT)


def test_weights_from_0_to_100_points_are_accepted():
    zero = [rule("spend_12m", "quantitative", 60), rule("tenure_years", "qualitative", 40)]
    zero.append(rule("satisfaction_12m", "qualitative", 0))
    assert validate_profile_rules(zero, split=SPLIT) == {}
    half = [rule("spend_12m", "quantitative", "59.5"), rule("orders_12m", "quantitative", "0.5")]
    assert validate_profile_rules([*half, rule("tenure_years", "qualitative", 40)], split=SPLIT) == {}
    full = [rule("spend_12m", "quantitative", "100.00")]
    assert validate_profile_rules(full, split={"quantitative": 100, "qualitative": 0}) == {}


def test_a_weight_just_over_100_points_is_refused():
    rules = [rule("spend_12m", "quantitative", "100.01"), rule("tenure_years", "qualitative", 40)]
    errors = validate_profile_rules(rules, split={"quantitative": "100.01", "qualitative": 0})
    assert errors["rules[0].weight"] == ["Weight cannot be more than 100 points."]


def test_a_negative_weight_is_shown_as_written():
    rules = [rule("spend_12m", "quantitative", 60), rule("tenure_years", "qualitative", "-12.50")]
    errors = validate_profile_rules(rules, split=SPLIT)
    assert errors["rules[1].weight"] == ["Weight cannot be negative (-12.5)."]


@pytest.mark.parametrize("weight", [None, "", "lots", True, "NaN", "Infinity", "-Infinity"])
def test_a_weight_that_is_no_finite_number_is_refused(weight):
    rules = [rule("spend_12m", "quantitative", weight), rule("tenure_years", "qualitative", 40)]
    assert validate_profile_rules(rules, split=SPLIT) == {"rules[0].weight": ["Weight must be a number of points."]}


def test_a_floor_that_is_not_a_number_is_not_also_reported_missing():
    rules = [rule("spend_12m", "quantitative", 60, floor="low", cap="much"), rule("tenure_years", "qualitative", 40)]
    assert validate_profile_rules(rules, split=SPLIT) == {
        "rules[0].floor": ["'low' is not a number."],
        "rules[0].cap": ["'much' is not a number."],
    }


def test_a_cap_equal_to_the_floor_is_refused_with_figures_as_stored():
    equal = [rule("spend_12m", "quantitative", 60, floor="12.50", cap="12.50"), rule("tenure_years", "qualitative", 40)]
    assert validate_profile_rules(equal, split=SPLIT) == {
        "rules[0].cap": ["The cap (12.5) must be above the floor (12.5)."]
    }
    # The database keeps two decimals; the message reads as a person would write it.
    stored = [
        rule("spend_12m", "quantitative", 60, floor=Decimal("500.00"), cap=Decimal("100.00")),
        rule("tenure_years", "qualitative", 40),
    ]
    assert validate_profile_rules(stored, split=SPLIT) == {
        "rules[0].cap": ["The cap (100) must be above the floor (500)."]
    }


def test_a_linear_rule_may_carry_empty_bands():
    rules = [rule("spend_12m", "quantitative", 60, bands=""), rule("tenure_years", "qualitative", 40, bands=None)]
    assert validate_profile_rules(rules, split=SPLIT) == {}


def test_band_shares_may_be_exactly_0_and_1():
    bands_rule = rule("orders_12m", "quantitative", 60, normalisation="bands", bands=[[1, 0], [3, 1]])
    assert validate_profile_rules([bands_rule, rule("tenure_years", "qualitative", 40)], split=SPLIT) == {}


def test_band_thresholds_must_rise_strictly():
    bands_rule = rule("orders_12m", "quantitative", 60, normalisation="bands", bands=[[3, 0.5], [3, 1]])
    errors = validate_profile_rules([bands_rule, rule("tenure_years", "qualitative", 40)], split=SPLIT)
    assert errors == {"rules[0].bands": ["Band thresholds must be in ascending order: 3 comes after 3."]}


@pytest.mark.parametrize("bands", [5, "[[1, 0.5]]", {}, [[1, 0.5, 2]], [[1, 0.5], 3]])
def test_bands_that_are_not_pairs_are_refused(bands):
    bands_rule = rule("orders_12m", "quantitative", 60, normalisation="bands", bands=bands)
    errors = validate_profile_rules([bands_rule, rule("tenure_years", "qualitative", 40)], split=SPLIT)
    assert errors == {
        "rules[0].bands": ["Bands must be a list of [threshold, share] pairs, e.g. [[1, 0.5], [3, 1.0]]."]
    }


@pytest.mark.parametrize(("bands", "band"), [([["x", 0.5]], 1), ([[1, 0.5], [3, "most"]], 2)])
def test_a_band_that_is_not_numbers_is_named(bands, band):
    bands_rule = rule("orders_12m", "quantitative", 60, normalisation="bands", bands=bands)
    errors = validate_profile_rules([bands_rule, rule("tenure_years", "qualitative", 40)], split=SPLIT)
    assert errors == {"rules[0].bands": [f"Band {band}: threshold and share must both be numbers."]}


# The category split.


def test_a_split_that_is_not_a_mapping_asks_for_both_numbers():
    assert split_clean(None) == (
        {"quantitative": None, "qualitative": None},
        {
            "quantitative_points": ["The quantitative points must be a number."],
            "qualitative_points": ["The qualitative points must be a number."],
        },
    )


def test_split_parts_lie_between_0_and_100():
    assert split_clean({"quantitative": "100.00", "qualitative": 0}) == (
        {"quantitative": Decimal(100), "qualitative": Decimal(0)},
        {},
    )
    assert split_clean({"quantitative": "100.50", "qualitative": "-0.50"})[1] == {
        "quantitative_points": ["The quantitative points must be between 0 and 100; they are 100.5."],
        "qualitative_points": ["The qualitative points must be between 0 and 100; they are -0.5."],
    }


def test_a_rule_without_a_weight_does_not_hide_the_other_categorys_sum():
    rules = [rule("spend_12m", "quantitative", "lots"), rule("tenure_years", "qualitative", 30)]
    assert validate_profile_rules(rules, split=SPLIT) == {
        "rules[0].weight": ["Weight must be a number of points."],
        "rules": ["Qualitative rules add up to 30; this profile's split gives qualitative 40."],
    }


def test_category_split_adds_weights_per_category_and_skips_what_it_cannot_read():
    rules = [
        rule("spend_12m", "quantitative", 30),
        RuleSpec("orders_12m", "quantitative", Decimal("30.00"), floor=0, cap=10),
        rule("tenure_years", "qualitative", 40),
        rule("referrals_12m", "bonus", ""),  # weight not filled in yet
        rule("social_shares_12m", "extra", 5),  # not a category
    ]
    assert category_split(rules) == {"quantitative": 60, "qualitative": 40, "bonus": 0}


def test_category_split_text_names_the_categories_in_the_users_language():
    rules = [*valid_rules(), rule("referrals_12m", "bonus", "2.50")]
    with translation.override("zh-hans"):
        assert category_split_text(rules) == "定量 60 / 定性 40 / 加分 2.5"


# Tier thresholds.


SEEDED = (("vip", "VIP", 90), ("core", "Core", 75), ("potential", "Potential", 60), ("ordinary", "Ordinary", 0))


def seeded_tiers(**min_scores):
    """Tiers as the admin form passes them: the tier being edited comes last, not in rank order."""
    rows = [
        {"code": code, "rank": rank, "name": name, "min_score": min_scores.get(code, score)}
        for rank, (code, name, score) in enumerate(SEEDED, start=1)
    ]
    return rows[1:] + rows[:1]


def test_thresholds_are_checked_in_rank_order_whatever_order_they_come_in():
    assert validate_tier_thresholds(seeded_tiers()) == {}


def test_a_tier_at_or_below_the_next_one_is_named_by_its_name():
    assert validate_tier_thresholds(seeded_tiers(vip=Decimal("75.00"))) == {
        "min_score": ["Thresholds must fall strictly from tier to tier: Core (75) must be below VIP (75)."],
        "core.min_score": ["Must be below VIP's 75."],
    }


def test_no_tiers_is_refused():
    assert validate_tier_thresholds([]) == {"tiers": ["At least one tier is needed."]}


def test_a_threshold_may_be_exactly_0_or_100():
    assert validate_tier_thresholds(seeded_tiers(vip="100.00")) == {}


@pytest.mark.parametrize("min_score", ["100.01", "-0.01"])
def test_a_threshold_outside_0_to_100_is_refused(min_score):
    assert validate_tier_thresholds(seeded_tiers(potential=min_score)) == {
        "potential.min_score": ["The minimum score must be between 0 and 100."]
    }


def test_a_threshold_that_is_not_a_number_is_refused_even_without_a_code():
    assert validate_tier_thresholds([{"rank": 1, "min_score": "high"}]) == {
        "?.min_score": ["The minimum score must be a number."]
    }


def test_target_shares_from_0_to_100_or_none_are_accepted():
    rows = seeded_tiers()
    for row, share in zip(rows, ["0", "100.00", None, 50], strict=True):
        row["target_share"] = share
    assert validate_tier_thresholds(rows) == {}


@pytest.mark.parametrize("share", ["-0.01", "100.01", "half"])
def test_a_target_share_outside_0_to_100_is_refused(share):
    rows = seeded_tiers()
    rows[0]["target_share"] = share  # core
    assert validate_tier_thresholds(rows) == {
        "core.target_share": ["The target share must be a percentage between 0 and 100."]
    }

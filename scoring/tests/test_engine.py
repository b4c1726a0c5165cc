"""The pure arithmetic: no database, microseconds per test."""

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.engine import (
    ProfileSpec,
    RuleSpec,
    TierSpec,
    match_profile,
    round_total,
    rule_points,
    rule_spec_from,
    score_matrix,
    score_one,
    tier_for_total,
)

TIERS = [
    TierSpec("vip", 1, 90),
    TierSpec("core", 2, 75),
    TierSpec("potential", 3, 60),
    TierSpec("ordinary", 4, 45),
    TierSpec("dormant", 5, 0),
]

DEFAULT_RULES = (
    RuleSpec("spend_12m", "quantitative", 30, floor=0, cap=500_000),
    RuleSpec("orders_12m", "quantitative", 20, floor=0, cap=24),
    RuleSpec("avg_order_value_12m", "quantitative", 10, floor=0, cap=2000),
    RuleSpec("tenure_years", "qualitative", 15, floor=0, cap=5),
    RuleSpec("satisfaction_12m", "qualitative", 15, floor=1, cap=5, missing_value=3),
    RuleSpec("strategic_potential", "qualitative", 10, floor=0, cap=10),
)
DEFAULT = ProfileSpec(id=1, name="Default", version=1, rules=DEFAULT_RULES, is_default=True)


def points(rule, *values, population=None):
    return rule_points(rule, np.array(values, dtype=float), population).tolist()


# --- normalisations ----------------------------------------------------------------------------


def test_linear_is_clamped_between_floor_and_cap():
    rule = RuleSpec("spend_12m", "quantitative", 30, floor=0, cap=500_000)
    assert points(rule, -5, 0, 100_000, 250_000, 500_000, 2_000_000) == [0, 0, 6, 15, 30, 30]


def test_linear_with_a_floor_above_zero():
    rule = RuleSpec("satisfaction_12m", "qualitative", 15, floor=1, cap=5)
    assert points(rule, 1, 3, 4.5, 5) == [0, 7.5, 13.125, 15]


def test_lower_is_better_reverses_linear():
    rule = RuleSpec("complaints_12m", "bonus", 10, floor=0, cap=5, direction="lower")
    assert points(rule, 0, 1, 5, 9) == [10, 8, 0, 0]


def test_bands_give_the_share_of_the_highest_band_reached():
    rule = RuleSpec("referrals_12m", "bonus", 10, normalisation="bands", bands=((1, 0.3), (3, 0.6), (10, 1.0)))
    assert points(rule, 0, 1, 2, 3, 9.99, 10, 50) == pytest.approx([0, 3, 3, 6, 6, 10, 10])


def test_bands_lower_is_better():
    rule = RuleSpec(
        "recency_days",
        "quantitative",
        20,
        normalisation="bands",
        direction="lower",
        bands=((30, 1.0), (90, 0.5), (180, 0.2)),
    )
    assert points(rule, 10, 30, 31, 90, 120, 400) == pytest.approx([20, 20, 10, 10, 4, 0])


def test_percentile_ranks_against_the_population():
    rule = RuleSpec("spend_12m", "quantitative", 10, normalisation="percentile")
    population = np.array([10.0, 20.0, 30.0, 40.0])
    assert points(rule, 5, 10, 25, 40, 99, population=population) == pytest.approx([0, 2.5, 5, 10, 10])


def test_percentile_lower_is_better():
    rule = RuleSpec("complaints_12m", "quantitative", 10, normalisation="percentile", direction="lower")
    population = np.array([0.0, 1.0, 2.0, 3.0])
    assert points(rule, 0, 3, population=population) == pytest.approx([10, 2.5])


def test_percentile_without_a_population_ranks_within_the_batch():
    rule = RuleSpec("spend_12m", "quantitative", 10, normalisation="percentile")
    assert points(rule, 30, 10, 20, 40) == pytest.approx([7.5, 2.5, 5, 10])


def test_linear_without_a_floor_starts_at_zero():
    rule = RuleSpec("spend_12m", "quantitative", 20, cap=100)
    assert points(rule, 0, 50, 100) == [0, 10, 20]


def test_bands_without_any_band_give_nothing():
    rule = RuleSpec("referrals_12m", "bonus", 10, normalisation="bands")
    assert points(rule, 0, 5) == [0, 0]


def test_a_band_share_above_one_still_gives_at_most_the_weight():
    rule = RuleSpec("referrals_12m", "bonus", 10, normalisation="bands", bands=((1, 0.5), (2, 1.5)))
    assert points(rule, 1, 2) == [5, 10]


def test_percentile_against_a_population_of_one():
    rule = RuleSpec("spend_12m", "quantitative", 10, normalisation="percentile")
    assert points(rule, 39, 40, 41, population=np.array([40.0])) == [0, 10, 10]


def test_percentile_with_nobody_to_rank_against_gives_nothing():
    rule = RuleSpec("spend_12m", "quantitative", 10, normalisation="percentile")
    assert points(rule, 5, 10, population=np.array([])) == [0, 0]
    assert points(rule, np.nan, np.nan) == [0, 0]


def test_an_unknown_normalisation_is_an_error_that_names_it():
    rule = RuleSpec("spend_12m", "quantitative", 10, normalisation="zscore")
    with pytest.raises(ValueError, match=r"^unknown normalisation 'zscore'$"):
        points(rule, 1)


def test_values_as_the_database_returns_them_decimal_or_none():
    rule = RuleSpec("spend_12m", "quantitative", 30, floor=0, cap=500_000)
    assert rule_points(rule, [Decimal("250000.00"), None]).tolist() == [15, 0]


# --- missing data ------------------------------------------------------------------------------


def test_missing_value_is_used_when_given():
    rule = RuleSpec("satisfaction_12m", "qualitative", 15, floor=1, cap=5, missing_value=3)
    assert points(rule, np.nan) == [7.5]


def test_missing_without_a_fallback_earns_nothing_in_every_normalisation():
    linear = RuleSpec("spend_12m", "quantitative", 30, floor=0, cap=100)
    lower = RuleSpec("complaints_12m", "quantitative", 30, floor=0, cap=5, direction="lower")
    bands = RuleSpec("referrals_12m", "bonus", 5, normalisation="bands", bands=((0, 0.5), (2, 1)))
    percentile = RuleSpec("spend_12m", "quantitative", 10, normalisation="percentile")
    assert points(linear, np.nan) == [0]
    assert points(lower, np.nan) == [0]
    assert points(bands, np.nan) == [0]
    assert points(percentile, np.nan, population=np.array([1.0, 2.0])) == [0]


def test_a_metric_absent_from_the_table_counts_as_missing():
    totals, matrix = score_matrix(DEFAULT, {"spend_12m": np.array([500_000.0])})
    assert matrix[:, 0].tolist() == [30, 0, 0, 0, 7.5, 0]
    assert totals.tolist() == [37.5]


def test_missing_without_a_floor_earns_nothing_either_way():
    higher = RuleSpec("spend_12m", "quantitative", 20, cap=100)
    lower = RuleSpec("complaints_12m", "quantitative", 20, cap=5, direction="lower")
    assert points(higher, np.nan) == [0]
    assert points(lower, np.nan) == [0]


def test_a_floor_left_on_a_bands_rule_is_no_fallback_for_a_missing_value():
    rule = RuleSpec("referrals_12m", "bonus", 10, normalisation="bands", floor=2, bands=((0, 0.5), (2, 1.0)))
    assert points(rule, np.nan, 2) == [0, 10]


def test_no_customers_score_nothing():
    totals, matrix = score_matrix(DEFAULT, {})
    assert totals.shape == (0,)
    assert matrix.shape == (len(DEFAULT_RULES), 0)


# --- totals, rounding, tiers -------------------------------------------------------------------


def test_method_example_scores_68_13_potential():
    """3 years, strategic industry, 100,000 over 24 orders, satisfaction 4.5."""
    result = score_one(
        DEFAULT,
        {
            "spend_12m": 100_000,
            "orders_12m": 24,
            "avg_order_value_12m": 100_000 / 24,
            "tenure_years": 3,
            "satisfaction_12m": 4.5,
            "strategic_potential": 10,
        },
        TIERS,
    )
    assert result.total == 68.13
    assert result.tier == "potential"
    assert result.points_by_metric() == {
        "spend_12m": 6,
        "orders_12m": 20,
        "avg_order_value_12m": 10,
        "tenure_years": 9,
        "satisfaction_12m": 13.13,
        "strategic_potential": 10,
    }
    assert [rule.max_points for rule in result.rules] == [30, 20, 10, 15, 15, 10]


def test_rounding_is_half_up_to_two_decimals():
    assert round_total(np.array([68.125, 68.124999, 0.005, 89.994, 89.995])).tolist() == [
        68.13,
        68.12,
        0.01,
        89.99,
        90.0,
    ]


@pytest.mark.parametrize(
    "total, tier",
    [
        (100, "vip"),
        (90.00, "vip"),
        (89.99, "core"),
        (75, "core"),
        (74.99, "potential"),
        (60, "potential"),
        (45, "ordinary"),
        (44.99, "dormant"),
        (0, "dormant"),
    ],
)
def test_a_total_on_a_threshold_belongs_to_the_higher_tier(total, tier):
    assert tier_for_total(total, TIERS) == tier


def test_bonus_lifts_the_total_but_never_past_100():
    rules = (
        RuleSpec("spend_12m", "quantitative", 100, floor=0, cap=10),
        RuleSpec("referrals_12m", "bonus", 5, floor=0, cap=1),
    )
    profile = ProfileSpec(id=1, name="p", version=1, rules=rules)
    totals, _ = score_matrix(profile, {"spend_12m": np.array([9.0, 10.0]), "referrals_12m": np.array([1.0, 1.0])})
    assert totals.tolist() == [95.0, 100.0]


PERCENTILE = ProfileSpec(
    id=2,
    name="Ranked",
    version=1,
    rules=(RuleSpec("spend_12m", "quantitative", 100, normalisation="percentile"),),
)


def test_percentile_rules_rank_against_the_population_given_for_their_metric():
    populations = {"spend_12m": np.array([10.0, 20.0, 30.0, 40.0]), "orders_12m": np.array([1.0])}
    totals, _ = score_matrix(PERCENTILE, {"spend_12m": np.array([10.0, 20.0])}, populations)
    assert totals.tolist() == [25.0, 50.0]
    assert score_one(PERCENTILE, {"spend_12m": 20.0}, TIERS, populations).total == 50.0


def test_alone_and_without_a_population_a_customer_ranks_against_itself():
    assert score_one(PERCENTILE, {"spend_12m": 20.0}, TIERS).total == 100.0


def test_a_customer_with_missing_metrics_still_gets_a_breakdown():
    """None is a missing value (satisfaction falls back to 3 of 5); the breakdown shows what was given."""
    given = {"spend_12m": 100_000, "orders_12m": 12, "satisfaction_12m": None}
    result = score_one(DEFAULT, given, TIERS)
    assert [(rule.metric, rule.value, rule.points) for rule in result.rules] == [
        ("spend_12m", 100_000, 6),
        ("orders_12m", 12, 10),
        ("avg_order_value_12m", None, 0),
        ("tenure_years", None, 0),
        ("satisfaction_12m", None, 7.5),
        ("strategic_potential", None, 0),
    ]
    assert (result.total, result.tier) == (23.5, "dormant")


def test_rounding_a_score_stored_as_a_decimal():
    assert round_total([Decimal("68.125"), Decimal("89.994")]).tolist() == [68.13, 89.99]


# --- profile matching --------------------------------------------------------------------------


def profile(pid, customer_type="", industries=(), default=False):
    return ProfileSpec(
        id=pid,
        name=str(pid),
        version=1,
        rules=DEFAULT_RULES,
        customer_type=customer_type,
        industry_ids=frozenset(industries),
        is_default=default,
    )


def test_the_most_specific_profile_wins():
    profiles = [profile(1, default=True), profile(2, "b2c"), profile(3, industries={7}), profile(4, "b2c", {7})]
    assert match_profile("b2c", 7, profiles).id == 4
    assert match_profile("b2b", 7, profiles).id == 3
    assert match_profile("b2c", 8, profiles).id == 2
    assert match_profile("b2b", 8, profiles).id == 1


def test_without_a_default_an_unmatched_customer_is_an_error():
    with pytest.raises(LookupError):
        match_profile("b2b", 1, [profile(2, "b2c")])


def test_industry_is_more_specific_than_customer_type():
    profiles = [profile(1, default=True), profile(2, "b2c"), profile(3, industries={7})]
    assert match_profile("b2c", 7, profiles).id == 3


def test_a_catch_all_profile_that_is_not_the_default_is_never_chosen():
    profiles = [profile(2), profile(5, default=True)]
    assert match_profile("b2b", 1, profiles).id == 5
    with pytest.raises(LookupError):
        match_profile("b2b", 1, [profile(2)])


def test_between_equally_specific_profiles_the_oldest_wins():
    assert match_profile("b2c", 1, [profile(4, "b2c"), profile(3, "b2c"), profile(1, default=True)]).id == 3
    assert match_profile("b2b", 1, [profile(6, default=True), profile(5, default=True)]).id == 5


def test_the_no_profile_error_says_what_is_missing():
    with pytest.raises(LookupError) as error:
        match_profile("b2b", 1, [profile(2, "b2c")])
    assert str(error.value) == "no scoring profile applies and there is no default profile"


# --- a rule as stored --------------------------------------------------------------------------


def test_a_rule_as_stored_becomes_a_spec_of_floats():
    """Decimals from the database become floats, blanks stay None, bands become (threshold, share) pairs."""
    stored = {
        "metric": "referrals_12m",
        "category": "bonus",
        "weight": Decimal("5.00"),
        "normalisation": "bands",
        "floor": None,
        "cap": Decimal("10.00"),
        "bands": [[1, "0.3"], [Decimal("3"), 1]],
        "direction": "lower",
        "missing_value": Decimal("0.50"),
    }
    spec = rule_spec_from(stored)
    assert spec == RuleSpec("referrals_12m", "bonus", 5.0, "bands", None, 10.0, ((1.0, 0.3), (3.0, 1.0)), "lower", 0.5)
    assert [type(value) for value in (spec.weight, spec.cap, spec.missing_value, *spec.bands[1])] == [float] * 5


def test_a_rule_as_stored_without_bands_or_fallback():
    stored = {
        "metric": "spend_12m",
        "category": "quantitative",
        "weight": 30,
        "normalisation": "linear",
        "floor": Decimal("0"),
        "cap": None,
        "bands": None,
        "direction": "higher",
        "missing_value": None,
    }
    assert rule_spec_from(stored) == RuleSpec(
        "spend_12m", "quantitative", 30.0, "linear", 0.0, None, (), "higher", None
    )


# --- properties --------------------------------------------------------------------------------

values = st.floats(min_value=-1e6, max_value=1e7, allow_nan=False)
maybe_values = st.one_of(st.none(), values)
weights = st.floats(min_value=0, max_value=100, allow_nan=False)


@st.composite
def rules(draw):
    metric = draw(st.sampled_from(["spend_12m", "orders_12m", "tenure_years", "referrals_12m"]))
    normalisation = draw(st.sampled_from(["linear", "bands", "percentile"]))
    direction = draw(st.sampled_from(["higher", "lower"]))
    weight = draw(weights)
    if normalisation == "linear":
        floor = draw(st.floats(min_value=-100, max_value=1000, allow_nan=False))
        cap = floor + draw(st.floats(min_value=0.01, max_value=1e6, allow_nan=False))
        return RuleSpec(
            metric,
            "quantitative",
            weight,
            "linear",
            floor,
            cap,
            direction=direction,
            missing_value=draw(st.one_of(st.none(), values)),
        )
    if normalisation == "bands":
        thresholds = sorted(set(draw(st.lists(values, min_size=1, max_size=4))))
        shares = draw(st.lists(st.floats(0, 1), min_size=len(thresholds), max_size=len(thresholds)))
        return RuleSpec(
            metric,
            "quantitative",
            weight,
            "bands",
            bands=tuple(zip(thresholds, shares, strict=True)),
            direction=direction,
        )
    return RuleSpec(metric, "quantitative", weight, "percentile", direction=direction)


@st.composite
def profiles(draw):
    drawn = draw(st.lists(rules(), min_size=1, max_size=4, unique_by=lambda rule: rule.metric))
    total = sum(rule.weight for rule in drawn) or 1.0
    scaled = tuple(RuleSpec(**{**rule.__dict__, "weight": rule.weight * 100 / total}) for rule in drawn)
    bonus = draw(st.floats(0, 20))
    return ProfileSpec(
        id=1, name="p", version=1, rules=(*scaled, RuleSpec("social_shares_12m", "bonus", bonus, floor=0, cap=5))
    )


METRICS = ["spend_12m", "orders_12m", "tenure_years", "referrals_12m", "social_shares_12m"]


@settings(max_examples=200, deadline=None)
@given(profiles(), st.lists(st.fixed_dictionaries({m: maybe_values for m in METRICS}), min_size=1, max_size=20))
def test_totals_stay_between_0_and_100(profile, customers):
    arrays = {m: np.array([np.nan if c[m] is None else c[m] for c in customers]) for m in METRICS}
    totals, matrix = score_matrix(profile, arrays)
    assert ((totals >= 0) & (totals <= 100)).all()
    assert (matrix >= 0).all()
    for row, rule in enumerate(profile.rules):  # weights are honoured: no rule gives more than its weight
        assert (matrix[row] <= rule.weight + 1e-9).all()


@settings(max_examples=200, deadline=None)
@given(
    profiles(),
    st.fixed_dictionaries({m: values for m in METRICS}),
    st.sampled_from(METRICS),
    st.floats(min_value=0, max_value=1e6),
)
def test_raising_a_higher_is_better_metric_never_lowers_the_total(profile, customer, metric, increase):
    population = {m: np.sort(np.array([customer[m], customer[m] + increase, 0.0, 1e5])) for m in METRICS}
    higher_only = ProfileSpec(
        id=1, name="p", version=1, rules=tuple(RuleSpec(**{**r.__dict__, "direction": "higher"}) for r in profile.rules)
    )
    before = {m: np.array([customer[m]]) for m in METRICS}
    after = {**before, metric: np.array([customer[metric] + increase])}
    total_before, _ = score_matrix(higher_only, before, population)
    total_after, _ = score_matrix(higher_only, after, population)
    assert total_after[0] >= total_before[0]


@settings(max_examples=100, deadline=None)
@given(st.floats(min_value=0, max_value=100, allow_nan=False))
def test_full_marks_on_a_rule_earn_exactly_its_weight(weight):
    rule = RuleSpec("spend_12m", "quantitative", weight, floor=0, cap=1)
    assert points(rule, 1.0) == [pytest.approx(weight)]

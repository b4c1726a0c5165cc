import datetime
from decimal import Decimal

import numpy as np

from scoring.engine import ProfileSpec, RuleSpec, TierSpec, score_one
from tiering import decide

MIN_SCORES = np.array([90.0, 75.0, 60.0, 45.0, 0.0])
NONE = decide.UNTIERED


NO_GRACE = decide.GraceRule()


def _decide(computed, totals, previous, runs_below=None, overrides=None, grace=NO_GRACE, min_scores=MIN_SCORES, **kw):
    """Plain lists, as a caller may pass them: the function owns the conversion to arrays."""
    size = len(computed)
    return decide.tiers_decide(
        computed_index=computed,
        totals=totals,
        previous_index=previous,
        runs_below_before=runs_below or [0] * size,
        override_index=overrides or [NONE] * size,
        min_scores=min_scores,
        grace=grace,
        **kw,
    )


def test_upgrades_and_downgrades_take_effect_at_once_by_default():
    result = _decide([0, 3, 2], [95, 50, 65], [1, 2, NONE])
    assert result.effective_index.tolist() == [0, 3, 2]
    assert result.direction.tolist() == [1, -1, 0]  # first tiering is not a change


def test_grace_runs_hold_a_downgrade_until_the_nth_run_below():
    grace = decide.GraceRule(runs=2)
    first = _decide([3], [50], [2], grace=grace)
    assert first.effective_index.tolist() == [2] and first.runs_below.tolist() == [1]
    assert first.direction.tolist() == [0]
    second = _decide([3], [50], [2], runs_below=first.runs_below.tolist(), grace=grace)
    assert second.effective_index.tolist() == [3] and second.direction.tolist() == [-1]
    assert second.runs_below.tolist() == [0]


def test_grace_buffer_holds_a_downgrade_within_the_buffer():
    grace = decide.GraceRule(buffer=3)
    result = _decide([3, 3], [58, 56], [2, 2], grace=grace)  # potential needs 60: 2 and 4 points short
    assert result.effective_index.tolist() == [2, 3]


def test_upgrade_resets_the_grace_counter():
    result = _decide([1], [80], [2], runs_below=[1], grace=decide.GraceRule(runs=3))
    assert result.effective_index.tolist() == [1] and result.runs_below.tolist() == [0]


def test_forced_rerun_does_not_advance_the_grace_counter():
    grace = decide.GraceRule(runs=2)
    rerun = _decide([3], [50], [2], runs_below=[1], grace=grace, count_this_run=False)
    assert rerun.effective_index.tolist() == [2] and rerun.runs_below.tolist() == [1]


def test_override_wins_over_score_and_grace():
    result = _decide([3, 0], [50, 95], [2, 1], overrides=[0, 4])
    assert result.effective_index.tolist() == [0, 4]
    assert result.overridden.tolist() == [True, True]
    assert result.direction.tolist() == [1, -1]


def test_the_decision_keeps_the_previous_tier_beside_the_new_one():
    result = _decide([0, 3, 2], [95, 50, 65], [1, 2, NONE])
    assert result.previous_index.tolist() == [1, 2, NONE]
    assert result.overridden.tolist() == [False, False, False]


def test_staying_in_the_tier_clears_the_grace_counter():
    result = _decide([2], [65], [2], runs_below=[1], grace=decide.GraceRule(runs=3))
    assert result.effective_index.tolist() == [2]
    assert result.runs_below.tolist() == [0]
    assert result.direction.tolist() == [0]


def test_a_total_exactly_the_buffer_below_is_held_even_after_float_subtraction():
    """60 - 56.9 is 3.1000000000000014 in floats: still "3.1 points below", so held."""
    result = _decide([3, 3], [56.9, 56.89], [2, 2], grace=decide.GraceRule(buffer=3.1))
    assert result.effective_index.tolist() == [2, 3]
    assert result.direction.tolist() == [0, -1]


def test_forced_rerun_leaves_the_counter_of_customers_not_below_at_zero():
    grace = decide.GraceRule(runs=2)
    rerun = _decide([3, 1, 2], [50, 80, 65], [2, 2, 2], runs_below=[0, 1, 1], grace=grace, count_this_run=False)
    assert rerun.effective_index.tolist() == [2, 1, 2]
    assert rerun.runs_below.tolist() == [1, 0, 0]


def test_an_override_clears_the_grace_counter():
    result = _decide([3], [50], [2], overrides=[1], grace=decide.GraceRule(runs=2))
    assert result.effective_index.tolist() == [1]
    assert result.runs_below.tolist() == [0]
    assert result.direction.tolist() == [1]


def test_with_a_single_tier_everyone_lands_in_it():
    result = _decide([0, 0], [10, 0], [NONE, 0], min_scores=np.array([0.0]))
    assert result.effective_index.tolist() == [0, 0]
    assert result.direction.tolist() == [0, 0]


def test_the_decision_is_whole_numbers_that_index_the_tier_table():
    """Indexes pick tier codes, counters and directions are stored as integers: even for an empty chunk."""
    codes = np.array(["vip", "core", "potential", "ordinary", "dormant"])
    for result in (_decide([0, 3, 2], [95, 50, 65], [1, 2, NONE]), _decide([], [], [])):
        assert codes[result.effective_index].size == codes[result.previous_index].size == len(result.direction)
        for array in (result.effective_index, result.previous_index, result.runs_below, result.direction):
            assert array.dtype == np.int64
    assert codes[_decide([0, 3], [95, 50], [1, 2]).effective_index].tolist() == ["vip", "ordinary"]


def test_totals_as_the_database_returns_them_are_accepted():
    result = _decide([3, 3], [Decimal("57.00"), Decimal("56.99")], [2, 2], grace=decide.GraceRule(buffer=3))
    assert result.effective_index.tolist() == [2, 3]


def test_months_before_clamps_to_month_end():
    assert decide.months_before(datetime.date(2026, 8, 31), 6) == datetime.date(2026, 2, 28)
    assert decide.months_before(datetime.date(2026, 1, 15), 3) == datetime.date(2025, 10, 15)


def _ord(day):
    return datetime.date.fromisoformat(day).toordinal()


def test_lifecycle_stages_from_dates():
    as_of = datetime.date(2026, 10, 1)
    rows = [
        # status, cooperation_since, last_order, last_interaction, expected
        ("active", -1, -1, -1, "prospect"),
        ("active", _ord("2026-06-01"), _ord("2026-09-20"), -1, "new"),
        ("active", _ord("2025-06-01"), _ord("2026-09-20"), _ord("2026-09-01"), "established"),
        ("active", _ord("2020-01-01"), _ord("2026-09-20"), _ord("2026-09-01"), "mature"),
        ("active", _ord("2020-01-01"), _ord("2026-08-01"), _ord("2026-01-01"), "mature"),
        ("active", _ord("2020-01-01"), _ord("2026-03-01"), _ord("2026-02-01"), "silent"),
        ("active", _ord("2020-01-01"), -1, -1, "silent"),
        ("active", _ord("2020-01-01"), _ord("2026-05-01"), _ord("2026-09-01"), "lost"),
        ("terminated", _ord("2020-01-01"), _ord("2026-09-20"), _ord("2026-09-01"), "lost"),
    ]
    stages = decide.lifecycle_stages(
        as_of=as_of,
        status=np.array([r[0] for r in rows], dtype=object),
        cooperation_since=np.array([r[1] for r in rows]),
        last_order=np.array([r[2] for r in rows]),
        last_interaction=np.array([r[3] for r in rows]),
        rule=decide.LifecycleRule(),
    )
    assert stages.tolist() == [r[4] for r in rows]


def test_lifecycle_cut_offs_fall_on_the_day_exactly_the_months_before():
    """As of 2026-10-01 with the default rule: new when cooperating since after 2026-04-01, mature
    since 2024-10-01 or earlier; lost with no order since 2026-07-01, silent with no order or
    contact since 2026-04-01 (that day included in both)."""
    as_of = datetime.date(2026, 10, 1)
    recent = _ord("2026-09-20")
    rows = [
        # cooperation_since, last_order, last_interaction, expected
        (_ord("2026-04-02"), recent, recent, "new"),
        (_ord("2026-04-01"), recent, recent, "established"),
        (_ord("2024-10-02"), recent, recent, "established"),
        (_ord("2024-10-01"), recent, recent, "mature"),
        (_ord("2020-01-01"), _ord("2026-07-02"), recent, "mature"),
        (_ord("2020-01-01"), _ord("2026-07-01"), recent, "lost"),
        (_ord("2026-07-02"), -1, recent, "new"),
        (_ord("2026-07-01"), -1, recent, "lost"),
        (_ord("2020-01-01"), _ord("2026-04-02"), _ord("2026-04-02"), "lost"),
        (_ord("2020-01-01"), _ord("2026-04-01"), _ord("2026-04-01"), "silent"),
        (_ord("2026-04-02"), -1, -1, "lost"),
        (_ord("2026-04-01"), -1, -1, "silent"),
    ]
    stages = decide.lifecycle_stages(
        as_of=as_of,
        status=["active"] * len(rows),
        cooperation_since=[r[0] for r in rows],
        last_order=[r[1] for r in rows],
        last_interaction=[r[2] for r in rows],
        rule=decide.LifecycleRule(),
    )
    assert stages.tolist() == [r[3] for r in rows]


def test_lifecycle_months_come_from_the_rule():
    as_of = datetime.date(2026, 10, 1)
    rule = decide.LifecycleRule(new_months=1, mature_months=12, silent_months=12, lost_months=2)
    stages = decide.lifecycle_stages(
        as_of=as_of,
        status=["active"] * 4,
        cooperation_since=[_ord("2026-09-02"), _ord("2026-09-01"), _ord("2025-10-01"), _ord("2025-10-01")],
        last_order=[-1, _ord("2026-09-30"), _ord("2026-08-01"), _ord("2025-10-01")],
        last_interaction=[-1, -1, _ord("2026-09-30"), _ord("2025-10-01")],
        rule=rule,
    )
    assert stages.tolist() == ["new", "established", "lost", "silent"]


def test_early_warning_flags_each_trigger():
    as_of = datetime.date(2026, 10, 1)
    flags = decide.early_warning_flags(
        as_of=as_of,
        spend=np.array([130.0, 50.0, 100.0, 100.0, 129.0]),
        spend_before=np.array([100.0, 100.0, 100.0, 100.0, 100.0]),
        tiered=np.array([True] * 5),
        complaints_recent=np.array([0, 0, 3, 0, 2]),
        cooperation_since=np.array([_ord("2020-01-01")] * 5),
        last_order=np.array([_ord("2026-09-01")] * 3 + [_ord("2026-03-31"), _ord("2026-09-01")]),
        active=np.array([True] * 5),
        rule=decide.FlagRule(),
    )
    assert flags == [["spend_up"], ["spend_down"], ["complaints"], ["no_order"], []]


def _flags(spend, spend_before, *, tiered=None, complaints=None, cooperation_since=None, last_order=None, active=None):
    size = len(spend)
    return decide.early_warning_flags(
        as_of=datetime.date(2026, 10, 1),
        spend=spend,
        spend_before=spend_before,
        tiered=tiered or [True] * size,
        complaints_recent=complaints or [0] * size,
        cooperation_since=cooperation_since or [_ord("2020-01-01")] * size,
        last_order=last_order or [_ord("2026-09-01")] * size,
        active=active or [True] * size,
        rule=decide.FlagRule(),
    )


def test_spend_flags_at_their_thresholds():
    """Up at +30% or more, down at -50% or more; a customer who had no spend is up as soon as it spends."""
    rows = [
        (130.0, 100.0, ["spend_up"]),
        (129.99, 100.0, []),
        (50.0, 100.0, ["spend_down"]),
        (50.01, 100.0, []),
        (1.2, 1.0, []),
        (1.3, 1.0, ["spend_up"]),
        (0.5, 1.0, ["spend_down"]),
        (0.51, 1.0, []),
        (1.0, 0.0, ["spend_up"]),
        (0.0, 0.0, []),
    ]
    assert _flags([r[0] for r in rows], [r[1] for r in rows]) == [r[2] for r in rows]


def test_spend_flags_only_for_customers_already_tiered():
    assert _flags([130.0, 50.0, 1.0], [100.0, 100.0, 0.0], tiered=[False, False, False]) == [[], [], []]


def test_spend_percentages_come_from_the_rule():
    flags = decide.early_warning_flags(
        as_of=datetime.date(2026, 10, 1),
        spend=[111.0, 109.0, 80.0, 81.0],
        spend_before=[100.0] * 4,
        tiered=[True] * 4,
        complaints_recent=[1, 0, 0, 0],
        cooperation_since=[_ord("2020-01-01")] * 4,
        last_order=[_ord("2026-09-01")] * 4,
        active=[True] * 4,
        rule=decide.FlagRule(spend_up_percent=10, spend_down_percent=20, complaints_threshold=1),
    )
    assert flags == [["spend_up", "complaints"], [], ["spend_down"], []]


def test_no_order_flag_from_the_day_exactly_six_months_before():
    """As of 2026-10-01: no order since 2026-04-01 (included) by an active customer with a deal that
    old; prospects, terminated customers and deals younger than that are not flagged."""
    flags = _flags(
        [100.0] * 6,
        [100.0] * 6,
        cooperation_since=[
            _ord("2020-01-01"),
            _ord("2020-01-01"),
            _ord("2026-04-01"),
            _ord("2026-04-02"),
            -1,
            _ord("2020-01-01"),
        ],
        last_order=[_ord("2026-04-01"), _ord("2026-04-02"), -1, -1, -1, _ord("2025-01-01")],
        active=[True, True, True, True, True, False],
    )
    assert flags == [["no_order"], [], ["no_order"], [], [], []]


def test_flags_keep_their_order_when_several_apply():
    flags = _flags([200.0], [100.0], complaints=[5], last_order=[_ord("2025-01-01")])
    assert flags == [["spend_up", "complaints", "no_order"]]


def test_spend_as_the_database_returns_it_is_accepted():
    assert _flags([Decimal("130.00"), Decimal("50.00")], [Decimal("100.00"), Decimal("100.00")]) == [
        ["spend_up"],
        ["spend_down"],
    ]


def test_top_reasons_prefer_the_rules_that_moved_most():
    reasons = decide.top_reasons(
        points={"spend_12m": 10.0, "orders_12m": 5.0, "tenure_years": 15.0},
        max_points={"spend_12m": 30.0, "orders_12m": 20.0, "tenure_years": 15.0},
        previous_points={"spend_12m": 25.0, "orders_12m": 7.0, "tenure_years": 14.0},
        direction=-1,
    )
    assert [r["metric"] for r in reasons] == ["spend_12m", "orders_12m"]
    assert reasons[0]["delta"] == -15.0


def test_top_reasons_fall_back_to_the_biggest_shortfall():
    reasons = decide.top_reasons(
        points={"spend_12m": 10.0, "orders_12m": 5.0},
        max_points={"spend_12m": 30.0, "orders_12m": 20.0},
        previous_points=None,
        direction=-1,
    )
    assert [r["metric"] for r in reasons] == ["spend_12m", "orders_12m"]
    assert reasons[0]["shortfall"] == 20.0


def test_top_reasons_for_many_customers_at_once_follow_each_customers_rules():
    nan = np.nan
    metrics = ["spend_12m", "orders_12m", "tenure_years", "referrals_12m"]
    reasons = decide.top_reasons_batch(
        metrics=metrics,
        # Customer 0 fell on two rules, tied; 1 rose but has no earlier points; 2 moved against
        # its direction only; 3's profile has no referral rule.
        points=np.array(
            [[10.0, 5.0, 15.0, nan], [20.0, 10.0, 5.0, nan], [28.0, 20.0, 15.0, nan], [12.0, 2.0, 1.0, nan]]
        ),
        max_points=np.array([[30.0, 20.0, 15.0, 0], [30.0, 20.0, 15.0, 0], [30.0, 20.0, 15.0, 0], [30, 20, 15, 0]]),
        previous=np.array(
            [[12.0, 7.0, 15.0, nan], [nan, nan, nan, nan], [27.0, 19.0, 15.0, nan], [20.0, 1.0, 1.0, 4.0]]
        ),
        has_previous=np.array([True, False, True, True]),
        direction=np.array([-1, 1, -1, -1]),
        # Customer 0's profile lists orders before spend, so the tie goes to orders.
        order=np.array([[1, 0, 2, 3], [0, 1, 2, 3], [0, 1, 2, 3], [0, 1, 2, 3]]),
    )
    assert [(r["metric"], r["delta"]) for r in reasons[0]] == [("orders_12m", -2.0), ("spend_12m", -2.0)]
    assert [(r["metric"], r["shortfall"]) for r in reasons[1]] == [
        ("spend_12m", 10.0),
        ("orders_12m", 10.0),
        ("tenure_years", 10.0),
    ]
    # No rule fell for customer 2: its shortfall explains the downgrade instead.
    assert reasons[2] == [{"metric": "spend_12m", "points": 28.0, "max_points": 30.0, "shortfall": 2.0}]
    assert reasons[3] == [{"metric": "spend_12m", "points": 12.0, "previous_points": 20.0, "delta": -8.0}]


FOUR_FALLS = {
    "points": {"spend_12m": 10.0, "orders_12m": 5.0, "tenure_years": 2.0, "satisfaction_12m": 1.0},
    "max_points": {"spend_12m": 30.0, "orders_12m": 20.0, "tenure_years": 15.0, "satisfaction_12m": 15.0},
    "previous_points": {"spend_12m": 20.0, "orders_12m": 6.0, "tenure_years": 7.0, "satisfaction_12m": 4.0},
}


def test_top_reasons_are_the_three_biggest_moves_whatever_the_rule_order():
    reasons = decide.top_reasons(**FOUR_FALLS, direction=-1)
    assert [(r["metric"], r["delta"]) for r in reasons] == [
        ("spend_12m", -10.0),
        ("tenure_years", -5.0),
        ("satisfaction_12m", -3.0),
    ]
    assert [r["metric"] for r in decide.top_reasons(**FOUR_FALLS, direction=-1, limit=2)] == [
        "spend_12m",
        "tenure_years",
    ]


def test_top_reasons_in_a_batch_are_three_unless_told_otherwise():
    metrics = list(FOUR_FALLS["points"])

    def matrix(key):
        return np.array([[FOUR_FALLS[key][m] for m in metrics]])

    reasons = decide.top_reasons_batch(
        metrics=metrics,
        points=matrix("points"),
        max_points=matrix("max_points"),
        previous=matrix("previous_points"),
        has_previous=np.array([True]),
        direction=np.array([-1]),
    )
    assert [r["metric"] for r in reasons[0]] == ["spend_12m", "tenure_years", "satisfaction_12m"]


def test_shortfall_reasons_are_the_biggest_shortfalls_whatever_the_rule_order():
    reasons = decide.top_reasons(
        points={"spend_12m": 29.0, "orders_12m": 5.0, "tenure_years": 7.0, "satisfaction_12m": 15.0},
        max_points={"spend_12m": 30.0, "orders_12m": 20.0, "tenure_years": 15.0, "satisfaction_12m": 15.0},
        previous_points=None,
        direction=-1,
    )
    assert [(r["metric"], r["shortfall"]) for r in reasons] == [
        ("orders_12m", 15.0),
        ("tenure_years", 8.0),
        ("spend_12m", 1.0),
    ]


def test_an_upgrade_is_explained_by_the_rules_that_rose_only():
    """A rule up by exactly one point counts; one that fell does not explain an upgrade."""
    reasons = decide.top_reasons(
        points={"spend_12m": 11.0, "orders_12m": 3.0, "tenure_years": 4.0},
        max_points={"spend_12m": 30.0, "orders_12m": 20.0, "tenure_years": 15.0},
        previous_points={"spend_12m": 10.0, "orders_12m": 5.0, "tenure_years": 4.0},
        direction=1,
    )
    assert reasons == [{"metric": "spend_12m", "points": 11.0, "previous_points": 10.0, "delta": 1.0}]


def test_without_a_direction_every_rule_that_moved_is_a_reason_and_unchanged_ones_are_not():
    reasons = decide.top_reasons(
        points={"spend_12m": 11.0, "orders_12m": 3.0, "tenure_years": 4.0},
        max_points={"spend_12m": 30.0, "orders_12m": 20.0, "tenure_years": 15.0},
        previous_points={"spend_12m": 10.0, "orders_12m": 5.0, "tenure_years": 4.0},
        direction=0,
    )
    assert [(r["metric"], r["delta"]) for r in reasons] == [("orders_12m", -2.0), ("spend_12m", 1.0)]


def test_reasons_are_in_cents_and_a_move_below_half_a_cent_is_no_move():
    reasons = decide.top_reasons(
        points={"spend_12m": 12.344, "orders_12m": 4.996, "tenure_years": 9.6},
        max_points={"spend_12m": 30.0, "orders_12m": 20.0, "tenure_years": 15.0},
        previous_points={"spend_12m": 20.456, "orders_12m": 5.0, "tenure_years": 10.0},
        direction=-1,
    )
    assert reasons == [
        {"metric": "spend_12m", "points": 12.34, "previous_points": 20.46, "delta": -8.11},
        {"metric": "tenure_years", "points": 9.6, "previous_points": 10.0, "delta": -0.4},
    ]


def test_shortfalls_are_in_cents_and_below_half_a_cent_is_no_shortfall():
    reasons = decide.top_reasons(
        points={"spend_12m": 7.456, "orders_12m": 19.6, "tenure_years": 14.996, "referrals_12m": 0.0},
        max_points={"spend_12m": 10.0, "orders_12m": 20.0, "tenure_years": 15.0},  # referrals: rule gone
        previous_points=None,
        direction=-1,
    )
    assert reasons == [
        {"metric": "spend_12m", "points": 7.46, "max_points": 10.0, "shortfall": 2.54},
        {"metric": "orders_12m", "points": 19.6, "max_points": 20.0, "shortfall": 0.4},
    ]


def test_reasons_from_points_as_the_database_returns_them():
    as_floats = decide.top_reasons(**FOUR_FALLS, direction=-1)
    as_decimals = decide.top_reasons(
        **{key: {m: Decimal(str(v)) for m, v in values.items()} for key, values in FOUR_FALLS.items()},
        direction=-1,
    )
    assert as_decimals == as_floats


def test_points_to_reach_caps_each_rule_at_the_gap():
    gap, rows = decide.points_to_reach(
        total=70.0,
        target=75.0,
        points={"spend_12m": 28.0, "orders_12m": 10.0},
        max_points={"spend_12m": 30.0, "orders_12m": 20.0},
    )
    assert gap == 5.0
    assert rows[0] == {"metric": "orders_12m", "points": 10.0, "max_points": 20.0, "available": 10.0, "needed": 5.0}
    assert rows[1]["needed"] == 2.0


def test_points_to_reach_lists_what_each_rule_of_a_score_could_still_add():
    """From a scored breakdown: rules at their maximum offer nothing, bonus rules are left out."""
    profile = ProfileSpec(
        id=1,
        name="Default",
        version=1,
        is_default=True,
        rules=(
            RuleSpec("spend_12m", "quantitative", 30, floor=0, cap=500_000),
            RuleSpec("orders_12m", "quantitative", 20, floor=0, cap=24),
            RuleSpec("avg_order_value_12m", "quantitative", 10, floor=0, cap=2000),
            RuleSpec("tenure_years", "qualitative", 15, floor=0, cap=5),
            RuleSpec("satisfaction_12m", "qualitative", 15, floor=1, cap=5, missing_value=3),
            RuleSpec("strategic_potential", "qualitative", 10, floor=0, cap=10),
            RuleSpec("referrals_12m", "bonus", 5, floor=0, cap=1),
        ),
    )
    result = score_one(
        profile,
        {
            "spend_12m": 0,
            "orders_12m": 24,
            "avg_order_value_12m": 0,
            "tenure_years": 5,
            "satisfaction_12m": 5,
            "strategic_potential": 10,
            "referrals_12m": 0,
        },
        [TierSpec("core", 1, 75), TierSpec("potential", 2, 60), TierSpec("dormant", 3, 0)],
    )
    assert result.total == 60

    gap, rows = decide.points_to_reach(
        total=result.total,
        target=75,
        points={rule.metric: rule.points for rule in result.rules},
        max_points={rule.metric: rule.max_points for rule in result.rules},
        categories={rule.metric: rule.category for rule in result.rules},
    )

    assert gap == 15.0
    assert [(row["metric"], row["needed"]) for row in rows] == [("spend_12m", 15.0), ("avg_order_value_12m", 10.0)]


def test_points_to_reach_in_cents_biggest_need_first():
    """Bonus rules are left out wherever they sit; a rule with no maximum any more offers nothing;
    among equal needs the rule with more room comes first."""
    gap, rows = decide.points_to_reach(
        total=72.374,
        target=75.0,
        points={
            "referrals_12m": 0.0,
            "spend_12m": 28.5,
            "tenure_years": 12.123,
            "avg_order_value_12m": 5.0,
            "orders_12m": 19.6,
            "retired_metric": 0.0,
        },
        max_points={
            "referrals_12m": 5.0,
            "spend_12m": 30.0,
            "tenure_years": 15.0,
            "avg_order_value_12m": 10.0,
            "orders_12m": 20.0,
        },
        categories={"referrals_12m": "bonus", "spend_12m": "quantitative", "tenure_years": "qualitative"},
    )
    assert gap == 2.63
    assert rows == [
        {"metric": "avg_order_value_12m", "points": 5.0, "max_points": 10.0, "available": 5.0, "needed": 2.63},
        {"metric": "tenure_years", "points": 12.12, "max_points": 15.0, "available": 2.88, "needed": 2.63},
        {"metric": "spend_12m", "points": 28.5, "max_points": 30.0, "available": 1.5, "needed": 1.5},
        {"metric": "orders_12m", "points": 19.6, "max_points": 20.0, "available": 0.4, "needed": 0.4},
    ]


def test_points_to_reach_from_above_the_target_needs_nothing():
    gap, rows = decide.points_to_reach(
        total=80.0, target=75.0, points={"spend_12m": 5.0}, max_points={"spend_12m": 10.0}
    )
    assert gap == 0.0
    assert rows == [{"metric": "spend_12m", "points": 5.0, "max_points": 10.0, "available": 5.0, "needed": 0.0}]

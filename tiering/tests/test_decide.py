import datetime

import numpy as np

from scoring.engine import ProfileSpec, RuleSpec, TierSpec, score_one
from tiering import decide

MIN_SCORES = np.array([90.0, 75.0, 60.0, 45.0, 0.0])
NONE = decide.UNTIERED


NO_GRACE = decide.GraceRule()


def _decide(computed, totals, previous, runs_below=None, overrides=None, grace=NO_GRACE, **kw):
    size = len(computed)
    return decide.tiers_decide(
        computed_index=np.array(computed),
        totals=np.array(totals, dtype=float),
        previous_index=np.array(previous),
        runs_below_before=np.array(runs_below or [0] * size),
        override_index=np.array(overrides or [NONE] * size),
        min_scores=MIN_SCORES,
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

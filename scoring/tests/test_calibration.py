import datetime
from decimal import Decimal

import numpy as np

from core.tests.clock import AS_OF
from crm.tests.factories import CustomerFactory
from scoring.calibration import calibration_suggest, thresholds_for_shares
from scoring.models import Tier

SHARES = [5, 15, 30, 35, 15]


def test_thresholds_give_the_target_shares_on_distinct_scores():
    totals = np.arange(1, 101, dtype=float)  # 1..100, one customer each
    assert thresholds_for_shares(totals, SHARES, 0) == [96.0, 81.0, 51.0, 16.0]


def test_thresholds_fall_strictly_even_when_everyone_has_the_same_score():
    thresholds = thresholds_for_shares(np.full(10, 50.0), SHARES, 0)
    assert thresholds == [50.01, 50.0, 49.99, 49.98]  # 5% of 10 rounds to nobody in VIP


def test_thresholds_stay_above_the_lowest_tier():
    thresholds = thresholds_for_shares(np.zeros(10), SHARES, 0)
    assert thresholds == [0.04, 0.03, 0.02, 0.01]


def test_a_zero_share_tier_is_set_just_above_the_best_score():
    thresholds = thresholds_for_shares(np.array([10.0, 20.0, 30.0]), [0, 50, 50], 0)
    assert thresholds[0] == 30.01


def test_no_customers_keeps_thresholds_descending():
    thresholds = thresholds_for_shares(np.array([]), SHARES, 0)
    assert thresholds == sorted(thresholds, reverse=True) and len(set(thresholds)) == 4


def test_calibration_suggests_without_writing(db):
    for year in range(2016, 2026):  # tenure differs, so do the scores
        CustomerFactory(cooperation_since=datetime.date(year, 1, 1))
    calibration = calibration_suggest(as_of=AS_OF)

    assert set(calibration.suggested) == {"vip", "core", "potential", "ordinary"}
    values = list(calibration.suggested.values())
    assert values == sorted(values, reverse=True)
    assert calibration.simulation.total == 10
    assert sum(row.count_proposed for row in calibration.simulation.distribution) == 10
    assert Tier.objects.get(code="vip").min_score == Decimal("90")


def test_calibration_moves_start_from_todays_tiers_and_keep_the_drift_apart(db):
    vip = Tier.objects.get(code="vip")
    for year in range(2016, 2026):  # stored as VIP by a past run; without orders today nobody is VIP
        CustomerFactory(cooperation_since=datetime.date(year, 1, 1), computed_tier=vip)

    moves = calibration_suggest(as_of=AS_OF).simulation

    assert moves.change.rows()[0]["total"] == 0  # no customer is VIP today under the saved rules
    assert moves.drift.rows()[0]["total"] == 10 and moves.drift.downgrades == 10
    assert moves.never_tiered == 0

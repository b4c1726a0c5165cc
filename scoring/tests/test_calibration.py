import datetime
from decimal import Decimal
from types import SimpleNamespace

import numpy as np
import pytest

from core.tests.clock import AS_OF
from crm.tests.factories import CustomerFactory
from scoring import calibration, engine
from scoring.calibration import calibration_suggest, thresholds_for_shares
from scoring.models import Tier
from scoring.tables import TierSet

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
    assert thresholds_for_shares(np.array([]), SHARES, 0) == [100.0, 99.99, 99.98, 99.97]


def test_a_share_that_rounds_to_one_customer_puts_the_best_one_in_the_tier():
    totals = np.arange(1, 21, dtype=float)  # 5% of 20 customers is exactly the best one
    assert thresholds_for_shares(totals, [5, 15, 30, 50], 0) == [20.0, 17.0, 11.0]


def test_customers_on_the_threshold_score_stay_together():
    totals = np.array([90.0, 80.0, 80.0, 80.0, 50.0])  # 20% is one customer, 40% ends inside the tie at 80
    assert thresholds_for_shares(totals, [20, 20, 60], 0) == [90.0, 80.0]


def test_thresholds_keep_above_a_lowest_tier_that_starts_above_0():
    assert thresholds_for_shares(np.full(4, 10.0), [25, 25, 50], 30) == [30.02, 30.01]


def test_totals_may_be_decimals_as_scores_are_stored():
    totals = [Decimal("95.50"), Decimal("80.25"), Decimal("60.00"), Decimal("10.00")]
    assert thresholds_for_shares(totals, [0, 50, 50], 0) == [95.51, 80.25]


def test_thresholds_have_two_decimals_like_the_minimum_scores_they_become():
    assert thresholds_for_shares(np.array([87.456, 62.341, 20.0]), [0, 50, 50], 0) == [87.47, 62.34]


@pytest.mark.django_db
def test_calibration_suggests_without_writing():
    for year in range(2016, 2026):  # tenure differs, so do the scores
        CustomerFactory(cooperation_since=datetime.date(year, 1, 1))
    calibration = calibration_suggest(as_of=AS_OF)

    assert set(calibration.suggested) == {"vip", "core", "potential", "ordinary"}
    values = list(calibration.suggested.values())
    assert values == sorted(values, reverse=True)
    assert calibration.simulation.total == 10
    assert sum(row.count_proposed for row in calibration.simulation.distribution) == 10
    assert Tier.objects.get(code="vip").min_score == Decimal("90")


@pytest.mark.django_db
def test_calibration_moves_start_from_todays_tiers_and_keep_the_drift_apart():
    vip = Tier.objects.get(code="vip")
    for year in range(2016, 2026):  # stored as VIP by a past run; without orders today nobody is VIP
        CustomerFactory(cooperation_since=datetime.date(year, 1, 1), computed_tier=vip)

    moves = calibration_suggest(as_of=AS_OF).simulation

    assert moves.change.rows()[0]["total"] == 0  # no customer is VIP today under the saved rules
    assert moves.drift.rows()[0]["total"] == 10 and moves.drift.downgrades == 10
    assert moves.never_tiered == 0


# calibration_suggest on a known score distribution, without the database: the loaders are
# replaced, the thresholds, tier specs and simulation are the real ones.

TIER_ROWS = (("vip", 90, 10), ("core", 75, 20), ("potential", 60, 30), ("ordinary", 0, 40))
TODAY = [95, 88, 80, 72, 65, 58, 50, 41, 30, 12]  # one total per active customer


def saved_tiers():
    tiers = [
        Tier(pk=10 + rank, code=code, rank=rank, min_score=Decimal(score), target_share=Decimal(share))
        for rank, (code, score, share) in enumerate(TIER_ROWS, start=1)
    ]
    return TierSet(
        specs=[engine.TierSpec(code=t.code, rank=t.rank, min_score=float(t.min_score)) for t in tiers],
        ids=np.array([t.pk for t in tiers], dtype=np.int64),
        by_code={t.code: t for t in tiers},
    )


@pytest.fixture
def todays_data(monkeypatch):
    """The saved tiers, TODAY's totals, and the tier ids the last run stored (-1: never tiered)."""
    tiers, profiles = saved_tiers(), [object()]
    table = SimpleNamespace(computed_tier_id=np.array([11, 12, 12, 13, 13, 13, 14, 14, -1, -1], dtype=np.int64))
    reads = []

    def active_customers_table(as_of, *, chunk_size):
        reads.append((as_of, chunk_size))
        return table

    def table_score(table_read, profiles_read, tiers_read):
        assert (table_read, profiles_read, tiers_read) == (table, profiles, tiers)
        totals = np.array(TODAY, dtype=float)
        return SimpleNamespace(totals=totals, tier_index=engine.tier_indexes(totals, tiers.specs))

    monkeypatch.setattr(calibration, "tiers_load", lambda: tiers)
    monkeypatch.setattr(calibration, "profiles_load", lambda: profiles)
    monkeypatch.setattr(calibration, "active_customers_table", active_customers_table)
    monkeypatch.setattr(calibration, "table_score", table_score)
    return reads


def test_calibration_suggests_the_scores_at_the_target_shares_for_every_tier_above_the_lowest(todays_data):
    suggestion = calibration_suggest(as_of=AS_OF, chunk_size=3)

    assert todays_data == [(AS_OF, 3)]
    # 10% of 10 customers: the best (95); 30%: the third (80); 60%: the sixth (58).
    assert suggestion.suggested == {"vip": 95.0, "core": 80.0, "potential": 58.0}


def test_calibration_shows_what_applying_the_suggestion_would_change(todays_data):
    moves = calibration_suggest(as_of=AS_OF).simulation

    assert moves.as_of == AS_OF
    assert [(row.tier.code, row.min_score_now, row.min_score_proposed) for row in moves.distribution] == [
        ("vip", 90.0, 95.0),
        ("core", 75.0, 80.0),
        ("potential", 60.0, 58.0),
        ("ordinary", 0.0, 0.0),
    ]
    assert [row.count_now for row in moves.distribution] == [1, 2, 2, 5]
    assert [row.count_proposed for row in moves.distribution] == [1, 2, 3, 4]
    assert (moves.upgrades, moves.downgrades, moves.total) == (1, 0, 10)  # 58 reaches potential
    # Since the last run, the customer on 58 fell from potential under the saved 60; two were never tiered.
    assert (moves.drift.downgrades, moves.drift.upgrades, moves.drift.total, moves.never_tiered) == (1, 0, 8, 2)

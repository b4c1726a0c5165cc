"""The pure figures of a backtest (scoring/backtest.py): arrays in, the report's numbers out."""

import numpy as np
import pytest
from scipy import stats

from scoring import backtest
from scoring.backtest import Outcomes

CODES = ["vip", "core", "potential", "ordinary", "dormant"]


def outcomes(spend, retained=None, orders=None, complaints=None):
    spend = np.asarray(spend, dtype=float)
    size = len(spend)
    return Outcomes(
        spend=spend,
        orders=np.asarray(orders if orders is not None else np.ones(size), dtype=float),
        retained=np.asarray(retained if retained is not None else np.ones(size, dtype=bool), dtype=bool),
        complaints=np.asarray(complaints if complaints is not None else np.zeros(size), dtype=float),
    )


def test_rank_correlation_is_spearman_and_undefined_for_constant_input():
    scores = np.array([10, 20, 30, 40, 50.0])
    spend = np.array([1, 3, 2, 5, 4.0])
    assert backtest.rank_correlation(scores, spend) == pytest.approx(stats.spearmanr(scores, spend).statistic)
    assert backtest.rank_correlation(scores, np.zeros(5)) is None  # nobody spent: nothing to rank
    assert backtest.rank_correlation(np.full(5, 50.0), spend) is None
    assert backtest.rank_correlation(scores[:2], spend[:2]) is None


def test_top_share_counts_customers_tied_at_the_cut_in_proportion():
    # Ten customers; the top 20% is two customers. The best score is alone; three share the next.
    scores = np.array([90, 80, 80, 80, 10, 10, 10, 10, 10, 10.0])
    spend = np.array([50, 30, 0, 0, 5, 5, 4, 3, 2, 1.0])
    # 50 + one third of the 30 held by the three tied customers = 60 of 100.
    assert backtest.top_share(scores, spend, 0.2) == pytest.approx(0.6)
    # Whatever order the tied customers come in, the figure is the same.
    assert backtest.top_share(scores[[0, 3, 2, 1, 4, 5, 6, 7, 8, 9]], spend[[0, 3, 2, 1, 4, 5, 6, 7, 8, 9]], 0.2) == (
        pytest.approx(0.6)
    )
    assert backtest.top_share(scores, np.zeros(10), 0.2) is None


def test_gains_rise_to_the_whole_spend_and_are_perfect_when_scores_order_spend():
    spend = np.arange(1, 21, dtype=float)
    gains = backtest.gains(spend, spend)  # scores equal to spend: the best possible order
    assert gains[-1] == pytest.approx(1.0)
    assert gains[0] == pytest.approx(20 / spend.sum(), abs=1e-6)  # the top 5% is the single best customer
    assert all(a <= b for a, b in zip(gains, gains[1:], strict=False))
    reversed_gains = backtest.gains(-spend, spend)
    assert reversed_gains[0] == pytest.approx(1 / spend.sum(), abs=1e-6)


def test_tier_table_figures_and_lift():
    tier_index = np.array([0, 1, 1, 2, 4, 4])
    result = backtest.tier_table(
        tier_index,
        CODES,
        outcomes([600, 200, 100, 60, 20, 20], retained=[1, 1, 0, 1, 0, 1], complaints=[0, 1, 0, 0, 3, 0]),
    )
    vip, core, potential, ordinary, dormant = result
    assert vip["customers"] == 1 and vip["customer_share"] == pytest.approx(1 / 6, abs=1e-6)
    assert vip["spend_share"] == pytest.approx(0.6)
    assert vip["lift"] == pytest.approx(600 / (1000 / 6), abs=1e-6)
    assert core["mean_spend"] == 150 and core["median_spend"] == 150 and core["retention"] == 0.5
    assert core["complaints_mean"] == 0.5
    assert ordinary["customers"] == 0 and ordinary["mean_spend"] is None and ordinary["lift"] is None
    assert dormant["complaints_mean"] == 1.5
    assert all(row["few"] for row in result if row["customers"])  # fewer than 30: read with care
    assert not ordinary["few"]


def test_inversions_flag_a_lower_tier_out_spending_a_higher_one():
    rows = backtest.tier_table(np.array([1, 1, 2, 2, 4]), CODES, outcomes([100, 100, 300, 300, 10]))
    found = backtest.inversions(rows)
    assert found == [{"higher": "core", "lower": "potential", "higher_mean": 100.0, "lower_mean": 300.0}]
    # The empty tiers (VIP, ordinary) are never part of an inversion.
    assert backtest.inversions(backtest.tier_table(np.array([1, 2, 4]), CODES, outcomes([30, 20, 10]))) == []


def test_misplaced_customers_rising_from_the_low_tiers_and_lapsing_from_the_top_ones():
    tier_index = np.array([0, 1, 2, 3, 4, 4, 4, 4, 4, 4, 3, 3])
    spend = np.array([50, 40, 30, 0, 500, 1, 1, 1, 1, 1, 0, 0.0])
    retained = np.array([0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], dtype=bool)
    found = backtest.misplaced(tier_index, 5, outcomes(spend, retained=retained))
    assert found["rising"].tolist() == [4]  # dormant, yet the biggest spender next period
    assert found["lapsed"].tolist() == [0]  # VIP who stopped ordering


def test_contributions_measure_the_rule_set_without_each_rule():
    # Spend points order customers by next-period spend; tenure points run against it.
    spend_points = np.array([30, 20, 10, 0.0])
    tenure_points = np.array([0, 5, 10, 15.0])
    next_spend = np.array([400, 300, 200, 100.0])
    rows = backtest.contributions(
        {"spend_12m": spend_points, "tenure_years": tenure_points}, 0.25, outcomes(next_spend)
    )
    by_metric = {row["metric"]: row for row in rows}
    assert by_metric["spend_12m"]["rank_correlation_without"] == pytest.approx(-1.0)
    assert by_metric["spend_12m"]["adds_rank_correlation"] == pytest.approx(2.0)
    assert by_metric["tenure_years"]["rank_correlation_without"] == pytest.approx(1.0)
    assert by_metric["tenure_years"]["adds_rank_correlation"] == pytest.approx(0.0)  # 1 with it too
    # The top 20% is 0.8 of a customer: the best spender (400 of 1,000) with the rule, the worst
    # (100) ranked first by tenure alone.
    assert by_metric["spend_12m"]["adds_top_share"] == pytest.approx(0.8 * 0.4 - 0.8 * 0.1)


def test_totals_without_a_rule_are_capped_and_rounded_like_the_engine():
    points = {"a": np.array([80.004, 10.0]), "b": np.array([30.0, np.nan])}
    assert backtest.totals_from_points(points, 2).tolist() == [100.0, 10.0]
    assert backtest.totals_from_points(points, 2, without="b").tolist() == [80.0, 10.0]


def test_side_report_sums_up_one_rule_set():
    tier_index = np.array([0, 1, 2, 3, 4])
    totals = np.array([95, 80, 65, 50, 10.0])
    report = backtest.side_report(
        totals=totals,
        tier_index=tier_index,
        tier_codes=CODES,
        thresholds={"vip": 90, "core": 75, "potential": 60, "ordinary": 45, "dormant": 0},
        points={"spend_12m": totals},
        outcomes=outcomes([500, 300, 100, 50, 50]),
    )
    assert report["rank_correlation"] == pytest.approx(stats.spearmanr(totals, [500, 300, 100, 50, 50]).statistic)
    assert report["top_tiers_fraction"] == pytest.approx(0.4)
    assert report["top_tiers_share"] == pytest.approx(0.8)
    assert report["inversions"] == []
    assert report["gains"][-1] == [1.0, pytest.approx(1.0)]

"""The weight search (scoring/suggestion.py): every candidate is admissible, the objectives are
what the report measures, and a suggestion is made only when the gain is real."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from scoring import backtest, suggestion
from scoring.suggestion import Bound

METRICS = ["spend_12m", "orders_12m", "avg_order_value_12m", "tenure_years", "satisfaction_12m", "strategic_potential"]
CATEGORIES = ["quantitative"] * 3 + ["qualitative"] * 3
DEFAULT = np.array([30, 20, 10, 15, 15, 10.0])
SPLIT = {"quantitative": 60.0, "qualitative": 40.0}


def default_bounds(weights=DEFAULT):
    return [Bound(m, c, float(w), 0.0, 2.0 * float(w)) for m, c, w in zip(METRICS, CATEGORIES, weights, strict=True)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=6, max_size=6))
def test_every_candidate_keeps_the_split_the_bounds_and_half_points(unit):
    space = suggestion.WeightSpace(default_bounds(), SPLIT)
    weights = space.weights(np.array(unit))[:, 0]
    assert weights[:3].sum() == pytest.approx(60.0) and weights[3:].sum() == pytest.approx(40.0)
    assert np.all(weights >= 0) and np.all(weights <= 2 * DEFAULT + 1e-9)
    assert np.allclose(weights * 2, np.round(weights * 2))


def test_the_current_weights_map_onto_themselves():
    space = suggestion.WeightSpace(default_bounds(), SPLIT)
    assert space.weights(space.unit_of(DEFAULT))[:, 0].tolist() == DEFAULT.tolist()


def test_bonus_rules_stay_in_their_bounds_outside_the_split():
    bounds = [*default_bounds(), Bound("social_shares_12m", "bonus", 5.0, 0.0, 10.0)]
    weights = suggestion.WeightSpace(bounds, SPLIT).weights(np.full(7, 0.73))[:, 0]
    assert weights[6] == 7.5  # 0.73 of 10, to the half point
    assert weights[:3].sum() == 60 and weights[3:6].sum() == 40


def test_bounds_that_cannot_satisfy_the_split_are_named():
    tight = [Bound(m, c, float(w), 0.0, float(w) / 2) for m, c, w in zip(METRICS, CATEGORIES, DEFAULT, strict=True)]
    problems = suggestion.bounds_problems(tight, SPLIT)
    assert problems == [
        "The quantitative rules' bounds allow 0 to 30 points in all, but the split gives quantitative 60.",
        "The qualitative rules' bounds allow 0 to 20 points in all, but the split gives qualitative 40.",
    ]
    upside_down = suggestion.bounds_problems([Bound("spend_12m", "quantitative", 30, 40, 20)], {"quantitative": 30})
    assert upside_down == ["spend_12m: the bounds must satisfy 0 <= low <= high (they are 40 to 20)."]
    between = suggestion.bounds_problems([Bound("spend_12m", "quantitative", 30, 30.1, 30.4)], {"quantitative": 30})
    assert between == ["spend_12m: no whole or half point lies between 30.1 and 30.4."]
    assert suggestion.bounds_problems(default_bounds(), SPLIT) == []


def test_objectives_agree_with_the_reports_figures():
    rng = np.random.default_rng(3)
    shares = rng.random((500, 6))
    spend = np.exp(rng.normal(0, 1, 500))
    candidates = np.stack([DEFAULT, DEFAULT[::-1]], axis=1)
    totals = np.floor(np.minimum(shares @ candidates, 100) * 100 + 0.5) / 100
    correlation = suggestion.Objective("rank_correlation", shares, spend, top_fraction=0.2).values(candidates)
    top = suggestion.Objective("top_share", shares, spend, top_fraction=0.2).values(candidates)
    for column in range(2):
        assert correlation[column] == pytest.approx(stats.spearmanr(totals[:, column], spend).statistic)
        assert top[column] == pytest.approx(backtest.top_share(totals[:, column], spend, 0.2), abs=1e-6)


def synthetic(true_weights, *, size=6000, seed=5):
    rng = np.random.default_rng(seed)
    shares = rng.random((size, 6))
    spend = np.exp((shares @ true_weights) / 20 + rng.normal(0, 0.6, size))
    return shares, spend


def test_the_search_recovers_known_weights():
    true = np.array([17, 38, 5, 4, 26, 10.0])
    shares, spend = synthetic(true)
    found = suggestion.suggest(
        space=suggestion.WeightSpace(default_bounds(), SPLIT),
        objective_name="rank_correlation",
        shares=shares,
        spend=spend,
        top_fraction=0.2,
    )
    assert found.material
    assert np.argsort(found.weights[:3]).tolist() == np.argsort(true[:3]).tolist()
    assert np.argsort(found.weights[3:]).tolist() == np.argsort(true[3:]).tolist()
    assert np.abs(found.weights - true).max() <= 3
    assert found.holdout_gain > 0.05 and found.holdout_gain_low > 0


def test_no_change_is_suggested_when_the_current_weights_are_right():
    shares, spend = synthetic(DEFAULT, seed=11)
    found = suggestion.suggest(
        space=suggestion.WeightSpace(default_bounds(), SPLIT),
        objective_name="top_share",
        shares=shares,
        spend=spend,
        top_fraction=0.2,
    )
    assert not found.material
    assert found.weights.tolist() == DEFAULT.tolist()

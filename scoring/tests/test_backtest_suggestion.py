"""Weight suggestions end to end on generated data whose next-period spend follows known weights:
the suggestion beats the default weights out of sample and recovers the order of the true
weights; when the default weights are the true ones, it suggests no material change."""

import datetime
from decimal import Decimal

import numpy as np
import pytest

from crm.models import Customer, Order, SatisfactionSurvey
from crm.tests.factories import industry
from scoring import backtest_services, engine, services
from scoring.backtest_data import OUTCOME_DAYS
from scoring.models import Backtest
from scoring.tests.conftest import rules_as_dicts

FIT = datetime.date(2024, 9, 30)  # the fit window: scored as of FIT, judged on the year after it
T = FIT + datetime.timedelta(days=OUTCOME_DAYS)  # the report window: scored as of T, judged on the year after
TODAY = T + datetime.timedelta(days=OUTCOME_DAYS + 20)
METRICS = ["spend_12m", "orders_12m", "avg_order_value_12m", "tenure_years", "satisfaction_12m", "strategic_potential"]
DEFAULT = np.array([30, 20, 10, 15, 15, 10.0])
TRUE = np.array([17, 38, 5, 4, 26, 10.0])  # orders > spend > aov; satisfaction > strategic > tenure
CAPS = {"spend_12m": 60000, "orders_12m": 12, "avg_order_value_12m": 5000, "tenure_years": 10}
CUSTOMERS = 900


@pytest.fixture
def profile(default_profile):
    """The default weights, with caps that fit the generated customers (so every rule spreads them)."""
    rules = rules_as_dicts(default_profile)
    for rule in rules:
        if rule["metric"] in CAPS:
            rule["cap"] = CAPS[rule["metric"]]
    services.profile_rules_update(profile=default_profile, rules=rules, reason="Caps for the generated customers")
    return default_profile


def true_scores(weights, *, orders, amount, tenure, satisfaction, rating):
    """What the engine gives with `weights` for the metrics of one window (as the database will compute them)."""
    rules = [
        engine.RuleSpec(metric, category, float(weight), "linear", floor, cap)
        for metric, category, weight, floor, cap in zip(
            METRICS,
            ["quantitative"] * 3 + ["qualitative"] * 3,
            weights,
            [0, 0, 0, 0, 1, 0],
            [CAPS["spend_12m"], CAPS["orders_12m"], CAPS["avg_order_value_12m"], CAPS["tenure_years"], 5, 10],
            strict=True,
        )
    ]
    profile = engine.ProfileSpec(id=1, name="true", version=1, rules=tuple(rules))
    metrics = {
        "spend_12m": orders * amount,
        "orders_12m": orders.astype(float),
        "avg_order_value_12m": amount,
        "tenure_years": tenure,
        "satisfaction_12m": satisfaction,
        "strategic_potential": rating.astype(float),
    }
    return engine.score_matrix(profile, metrics)[0]


def generate(weights, *, seed):
    """Customers whose spend in each year follows `weights` applied to their metrics of the year
    before (plus noise): three years of orders, a survey a year, fixed ratings and start dates."""
    rng = np.random.default_rng(seed)
    n = CUSTOMERS
    since_days = rng.integers(200, 3650, n)
    rating = rng.integers(0, 11, n)
    satisfaction = np.round(rng.uniform(1, 5, n) * 2) / 2
    manufacturing = industry("MFG")
    customers = Customer.objects.bulk_create(
        Customer(
            code=f"MFG2019{index:04d}",
            name=f"Generated {index}",
            industry=manufacturing,
            customer_type="b2b",
            cooperation_since=FIT - datetime.timedelta(days=int(days)),
            potential_rating=int(r),
        )
        for index, (days, r) in enumerate(zip(since_days, rating, strict=True))
    )
    starts = [FIT - datetime.timedelta(days=OUTCOME_DAYS), FIT, T]  # each year is (start, start + 365]
    orders = rng.integers(1, 13, n)
    amount = np.round(rng.uniform(300, 5000, n), 2)
    rows, surveys = [], []
    for year, start in enumerate(starts):
        for index, customer in enumerate(customers):
            for k in range(int(orders[index])):
                day = start + datetime.timedelta(days=(k + 1) * OUTCOME_DAYS // int(orders[index]))
                rows.append(
                    Order(
                        customer=customer,
                        amount=Decimal(str(amount[index])),
                        ordered_at=day,
                        source="erp",
                        external_ref=f"G{year}-{index}-{k}",
                    )
                )
            surveys.append(
                SatisfactionSurvey(
                    customer=customer,
                    score=Decimal(str(satisfaction[index])),
                    surveyed_at=start + datetime.timedelta(days=180),
                )
            )
        as_of = start + datetime.timedelta(days=OUTCOME_DAYS)
        tenure = np.array([(as_of - c.cooperation_since).days / 365.25 for c in customers])
        score = true_scores(
            weights, orders=orders, amount=amount, tenure=tenure, satisfaction=satisfaction, rating=rating
        )
        spend = np.exp(score / 12 + rng.normal(0, 0.35, n)) * 400  # next year's spend follows the score
        orders = rng.integers(1, 13, n)
        amount = np.round(spend / orders, 2)
    Order.objects.bulk_create(rows, batch_size=2000)
    SatisfactionSurvey.objects.bulk_create(surveys, batch_size=2000)


def suggest(profile, objective="rank_correlation"):
    row = backtest_services.suggestion_create(profile=profile, objective=objective, as_of=T, fit_as_of=FIT, today=TODAY)
    row = backtest_services.backtest_run(row.pk)
    assert row.status == Backtest.Status.SUCCEEDED, row.error
    return row.result["suggestion"]


def test_the_suggestion_beats_the_default_weights_out_of_sample_and_recovers_their_order(profile):
    generate(TRUE, seed=1)
    found = suggest(profile)

    assert found["material"] is True
    suggested = np.array([item["suggested"] for item in found["weights"]])
    assert [item["metric"] for item in found["weights"]] == METRICS
    assert suggested[:3].sum() == 60 and suggested[3:].sum() == 40  # the split stays
    assert np.allclose(suggested * 2, np.round(suggested * 2))  # whole or half points
    assert all(item["low"] <= item["suggested"] <= item["high"] for item in found["weights"])
    # The order of the true weights, in each category: orders > spend > average order value;
    # satisfaction > strategic potential > tenure.
    assert np.argsort(suggested[:3]).tolist() == np.argsort(TRUE[:3]).tolist()
    assert np.argsort(suggested[3:]).tolist() == np.argsort(TRUE[3:]).tolist()
    report = found["windows"]["report"]
    assert report["customers"] == CUSTOMERS
    assert report["rank_correlation"]["suggested"] > report["rank_correlation"]["current"] + 0.05
    assert (
        found["windows"]["fit"]["rank_correlation"]["suggested"]
        > found["windows"]["fit"]["rank_correlation"]["current"]
    )


def test_no_material_change_when_the_default_weights_are_right(profile):
    generate(DEFAULT, seed=2)
    found = suggest(profile)

    assert found["material"] is False
    assert [item["suggested"] for item in found["weights"]] == DEFAULT.tolist()
    report = found["windows"]["report"]
    assert report["rank_correlation"]["suggested"] == report["rank_correlation"]["current"]


def test_the_top_tiers_share_objective_also_improves_out_of_sample(profile):
    generate(TRUE, seed=3)
    found = suggest(profile, objective="top_share")

    assert found["material"] is True and found["top_fraction"] == pytest.approx(0.20)
    report = found["windows"]["report"]["top_share"]
    assert report["suggested"] > report["current"]

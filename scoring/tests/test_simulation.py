import dataclasses
import datetime
from decimal import Decimal

import numpy as np
import pytest

from core.exceptions import DomainError
from core.tests.clock import AS_OF
from crm.models import Customer
from crm.tests.factories import CustomerFactory, OrderFactory, industry
from scoring import simulation
from scoring.models import ScoringProfile, Tier
from scoring.selectors import tiers_load
from scoring.tests.conftest import rules_as_dicts


def big_spender(**fields):
    """Scores 30 + 20 + 10 + 15 + 7.5 + 0 = 82.5 (core) on the default profile."""
    customer = CustomerFactory(cooperation_since=datetime.date(2020, 1, 1), **fields)
    for month in range(1, 25):
        OrderFactory(customer=customer, amount=Decimal("25000"), ordered_at=AS_OF - datetime.timedelta(days=month * 14))
    return customer


def quiet(**fields):
    """No orders, 3.75 years of tenure: 11.25 + 7.5 = 18.75 (dormant)."""
    return CustomerFactory(cooperation_since=datetime.date(2023, 1, 1), **fields)


def tier(code):
    return Tier.objects.get(code=code)


@pytest.fixture
def population(db):
    return {
        "core_now_core": big_spender(computed_tier=tier("core")),
        "never_tiered_core": big_spender(),
        "dormant_but_ordinary_last_run": quiet(computed_tier=tier("ordinary")),
        "never_tiered_dormant": quiet(),
        "terminated": quiet(status=Customer.Status.TERMINATED, computed_tier=tier("vip")),
    }


def index(code):
    return [spec.code for spec in tiers_load().specs].index(code)


def test_migration_matrix_counts_moves():
    matrix = simulation.migration_matrix(np.array([0, 1, 1, 4]), np.array([0, 0, 2, 4]), 5)
    assert matrix.shape == (5, 5)
    assert matrix[0, 0] == 1 and matrix[1, 0] == 1 and matrix[1, 2] == 1 and matrix[4, 4] == 1
    assert matrix.sum() == 4


def test_saved_rules_unchanged_move_nobody_and_drift_is_shown_apart(population):
    result = simulation.simulate(as_of=AS_OF)

    assert result.total == 4  # terminated customers are left out
    assert (result.upgrades, result.downgrades, result.unchanged) == (0, 0, 4)
    assert result.matrix[index("core"), index("core")] == 2
    assert result.matrix[index("dormant"), index("dormant")] == 2
    # since the last run: one customer went quiet (ordinary -> dormant); two were never tiered
    assert result.never_tiered == 2
    assert result.drift.total == 2
    assert result.drift.matrix[index("core"), index("core")] == 1
    assert result.drift.matrix[index("ordinary"), index("dormant")] == 1
    assert (result.drift.upgrades, result.drift.downgrades, result.drift.unchanged) == (0, 1, 1)


def test_a_draft_identical_to_the_saved_profile_moves_nobody(population):
    profile = ScoringProfile.objects.get(is_default=True)
    draft = simulation.draft_profile_spec(
        rules=rules_as_dicts(profile), split=profile.split, profile_id=profile.pk, is_default=True
    )
    same_thresholds = simulation.tier_specs_with(tiers_load(), {})

    result = simulation.simulate(as_of=AS_OF, draft_profile=draft, tier_specs=same_thresholds)

    assert (result.upgrades, result.downgrades) == (0, 0)
    assert result.unchanged == result.total == 4
    assert result.drift.downgrades == 1  # the drift is still there, apart


def test_draft_thresholds_move_customers_and_write_nothing(population, django_assert_max_num_queries):
    tiers = tiers_load()
    draft = simulation.tier_specs_with(tiers, {"core": 85, "potential": 80, "ordinary": 15})
    with django_assert_max_num_queries(20):
        result = simulation.simulate(as_of=AS_OF, tier_specs=draft)

    assert result.matrix[index("core"), index("potential")] == 2
    assert result.matrix[index("dormant"), index("ordinary")] == 2
    assert (result.upgrades, result.downgrades, result.unchanged) == (2, 2, 0)
    assert result.drift.matrix[index("ordinary"), index("dormant")] == 1  # unaffected by the draft
    shares = {row.tier.code: row for row in result.distribution}
    assert shares["ordinary"].count_proposed == 2 and shares["ordinary"].share_proposed == 50.0
    assert shares["vip"].target_share == 5.0 and shares["core"].min_score_proposed == 85
    assert Tier.objects.get(code="core").min_score == Decimal("75")
    assert Customer.objects.filter(computed_tier__isnull=True).count() == 2


def test_draft_profile_replaces_the_saved_one(population):
    profile = ScoringProfile.objects.get(is_default=True)
    rules = rules_as_dicts(profile)
    for rule in rules:  # everything on tenure: 3.74 years of 5 -> 74.9, 6.7 years -> 100
        rule["weight"] = 100 if rule["metric"] == "tenure_years" else 0
    draft = simulation.draft_profile_spec(
        rules=rules, split={"quantitative": 0, "qualitative": 100}, profile_id=profile.pk, is_default=True
    )

    result = simulation.simulate(as_of=AS_OF, draft_profile=draft)

    assert result.matrix[index("core"), index("vip")] == 2
    assert result.matrix[index("dormant"), index("potential")] == 2
    assert result.upgrades == 4
    assert ScoringProfile.objects.get(pk=profile.pk).version == 1


def test_a_new_draft_profile_for_an_industry_only_scores_that_industry(population):
    nev = quiet(industry=industry("NEV"))  # strategic: 28.75 today -> dormant
    rules = [
        {"metric": "strategic_potential", "category": "qualitative", "weight": 100, "floor": 0, "cap": 10},
    ]
    draft = simulation.draft_profile_spec(
        rules=rules, split={"quantitative": 0, "qualitative": 100}, industry_ids=[nev.industry_id]
    )

    result = simulation.simulate(as_of=AS_OF, draft_profile=draft)

    assert result.upgrades == 1
    assert result.matrix[index("dormant"), index("vip")] == 1


def test_an_invalid_draft_is_refused_with_field_errors(db):
    with pytest.raises(DomainError) as raised:
        simulation.draft_profile_spec(
            rules=[{"metric": "spend_12m", "category": "quantitative", "weight": 90, "floor": 0, "cap": 10}],
            split={"quantitative": 100, "qualitative": 0},
        )
    assert "rules" in raised.value.fields


def test_a_draft_that_leaves_its_split_is_refused(db):
    rules = [
        {"metric": "spend_12m", "category": "quantitative", "weight": 65, "floor": 0, "cap": 10},
        {"metric": "tenure_years", "category": "qualitative", "weight": 35, "floor": 0, "cap": 5},
    ]
    with pytest.raises(DomainError) as raised:
        simulation.draft_profile_spec(rules=rules, split={"quantitative": 60, "qualitative": 40})
    assert (
        raised.value.fields["rules"][0]
        == "Quantitative rules add up to 65; this profile's split gives quantitative 60."
    )


def test_simulation_cannot_add_tiers(population):
    specs = [*tiers_load().specs]
    specs[0] = simulation.engine.TierSpec(code="gold", rank=1, min_score=95)
    with pytest.raises(DomainError):
        simulation.simulate(as_of=AS_OF, tier_specs=specs)


def test_chunks_give_the_same_result_as_one_pass(population):
    draft = simulation.tier_specs_with(tiers_load(), {"core": 85})
    whole = simulation.simulate(as_of=AS_OF, tier_specs=draft)
    chunked = simulation.simulate(as_of=AS_OF, tier_specs=draft, chunk_size=1)
    assert (whole.matrix == chunked.matrix).all() and whole.upgrades + whole.downgrades == 2
    assert (whole.drift.matrix == chunked.drift.matrix).all() and whole.drift.total == 2


def test_stored_tiers_are_found_by_id_whatever_the_order_of_tier_ids(population):
    table = simulation.active_customers_table(AS_OF)
    tiers = tiers_load()
    reversed_ids = dataclasses.replace(tiers, ids=tiers.ids[::-1].copy())  # ids no longer ascending by rank
    expected = {
        population["core_now_core"].pk: index("core"),
        population["dormant_but_ordinary_last_run"].pk: index("ordinary"),
    }
    stored = dict(zip(table.customer_ids.tolist(), simulation.stored_tier_indexes(table, tiers).tolist(), strict=True))
    assert {pk: stored[pk] for pk in expected} == expected
    assert sorted(stored.values()).count(-1) == 2
    flipped = simulation.stored_tier_indexes(table, reversed_ids).tolist()
    assert flipped.count(-1) == 2 and set(flipped) - {-1} == {
        len(tiers.specs) - 1 - index("core"),
        len(tiers.specs) - 1 - index("ordinary"),
    }


def test_empty_database_gives_an_empty_matrix(db):
    result = simulation.simulate(as_of=AS_OF)
    assert result.total == 0 and result.matrix.sum() == 0 and result.drift.total == 0
    assert all(row.share_now == 0 for row in result.distribution)

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.exceptions import DomainError
from core.tests.clock import AS_OF
from crm.models import Customer
from crm.tests.factories import CustomerFactory, OrderFactory, SurveyFactory, industry
from scoring import selectors, services
from scoring.models import ScoreRule, ScoringProfile, Tier

# --- profile_rules_update ----------------------------------------------------------------------


def test_rules_update_changes_weights_and_bumps_version_once(default_profile, default_rules, admin_user):
    default_rules[0]["weight"] = 25  # spend
    default_rules[1]["weight"] = 25  # orders
    services.profile_rules_update(
        profile=default_profile, rules=default_rules, changed_by=admin_user, reason="Q3 review: frequency matters more"
    )

    default_profile.refresh_from_db()
    assert default_profile.version == 2
    weights = dict(default_profile.rules.values_list("metric", "weight"))
    assert weights["spend_12m"] == Decimal("25") and weights["orders_12m"] == Decimal("25")
    latest = default_profile.history.latest()
    assert latest.version == 2 and latest.history_user == admin_user
    assert latest.history_change_reason == "Q3 review: frequency matters more"
    assert ScoreRule.history.filter(metric="spend_12m", history_type="~", history_user=admin_user).exists()
    changed_rules = ScoreRule.history.filter(profile_id=default_profile.pk, history_type="~")
    assert set(changed_rules.values_list("metric", "history_change_reason")) == {
        ("spend_12m", "Q3 review: frequency matters more"),
        ("orders_12m", "Q3 review: frequency matters more"),
    }


def test_rules_update_keeps_rule_rows_and_deletes_left_out_ones(default_profile, default_rules, admin_user):
    ids_before = dict(default_profile.rules.values_list("metric", "id"))
    strategic = default_rules.pop()  # strategic_potential, 10 points, moved to tenure
    default_rules[3]["weight"] = 15 + strategic["weight"]
    default_rules.append(
        {
            "metric": "referrals_12m",
            "category": "bonus",
            "weight": 5,
            "normalisation": "bands",
            "bands": [[1, 0.5], [3, 1]],
        }
    )
    services.profile_rules_update(
        profile=default_profile, rules=default_rules, changed_by=admin_user, reason="Referrals count as a bonus"
    )

    ids_after = dict(default_profile.rules.values_list("metric", "id"))
    assert "strategic_potential" not in ids_after
    assert ids_after["spend_12m"] == ids_before["spend_12m"]
    assert ScoringProfile.objects.get(pk=default_profile.pk).version == 2
    assert default_profile.rules.get(metric="referrals_12m").bands == [[1.0, 0.5], [3.0, 1.0]]
    reasons = dict(
        ScoreRule.history.filter(profile_id=default_profile.pk)
        .exclude(history_type="~")
        .exclude(history_change_reason="seeded")
        .values_list("metric", "history_change_reason")
    )
    assert reasons == {
        "strategic_potential": "Referrals count as a bonus",
        "referrals_12m": "Referrals count as a bonus",
    }


def test_rules_update_refuses_bad_weights_and_writes_nothing(default_profile, default_rules, admin_user):
    default_rules[0]["weight"] = 25
    with pytest.raises(DomainError) as raised:
        services.profile_rules_update(profile=default_profile, rules=default_rules, changed_by=admin_user)

    assert raised.value.fields == {
        "rules": ["Quantitative rules add up to 55; this profile's split gives quantitative 60."]
    }
    default_profile.refresh_from_db()
    assert default_profile.version == 1
    assert default_profile.rules.get(metric="spend_12m").weight == Decimal("30")


def test_rules_update_refuses_a_total_of_100_in_another_split(default_profile, default_rules, admin_user):
    default_rules[0]["weight"] = 35  # spend: quantitative 65
    default_rules[3]["weight"] = 10  # tenure: qualitative 35
    with pytest.raises(DomainError) as raised:
        services.profile_rules_update(profile=default_profile, rules=default_rules, changed_by=admin_user, reason="x")

    assert raised.value.fields == {
        "rules": [
            "Quantitative rules add up to 65; this profile's split gives quantitative 60.",
            "Qualitative rules add up to 35; this profile's split gives qualitative 40.",
        ]
    }
    assert ScoringProfile.objects.get(pk=default_profile.pk).version == 1


def test_a_new_split_is_saved_with_its_rules_and_reason(default_profile, default_rules, admin_user):
    default_rules[0]["weight"] = 35
    default_rules[3]["weight"] = 10
    services.profile_rules_update(
        profile=default_profile,
        rules=default_rules,
        split={"quantitative": Decimal(65), "qualitative": Decimal(35)},
        changed_by=admin_user,
        reason="B2B buyers: spend says more than tenure",
    )

    stored = ScoringProfile.objects.get(pk=default_profile.pk)
    assert (stored.quantitative_points, stored.qualitative_points, stored.version) == (65, 35, 2)
    latest = stored.history.latest()
    assert latest.history_change_reason == "B2B buyers: spend says more than tenure"
    assert latest.prev_record.quantitative_points == 60 and latest.quantitative_points == 65


def test_a_new_split_needs_a_reason_and_writes_nothing_without_one(default_profile, default_rules, admin_user):
    default_rules[0]["weight"] = 35
    default_rules[3]["weight"] = 10
    with pytest.raises(DomainError) as raised:
        services.profile_rules_update(
            profile=default_profile,
            rules=default_rules,
            split={"quantitative": 65, "qualitative": 35},
            changed_by=admin_user,
            reason="  ",
        )
    assert list(raised.value.fields) == ["reason"]
    stored = ScoringProfile.objects.get(pk=default_profile.pk)
    assert (stored.quantitative_points, stored.version) == (60, 1)
    assert stored.rules.get(metric="spend_12m").weight == 30


def test_a_split_that_does_not_add_up_to_100_is_refused(default_profile, default_rules):
    with pytest.raises(DomainError) as raised:
        services.profile_rules_update(
            profile=default_profile, rules=default_rules, split={"quantitative": 65}, reason="more spend"
        )
    assert raised.value.fields == {
        "split": ["The split must add up to 100 points: quantitative 65 + qualitative 40 = 105."]
    }
    with pytest.raises(DomainError) as raised:
        services.profile_rules_update(profile=default_profile, rules=default_rules, split={"bonus": 5}, reason="x")
    assert "split" in raised.value.fields
    assert ScoringProfile.objects.get(pk=default_profile.pk).quantitative_points == 60


def test_rules_update_refuses_a_rule_of_another_profile(default_profile, default_rules):
    other = ScoringProfile.objects.create(name="B2C")
    foreign = ScoreRule.objects.create(
        profile=other, metric="spend_12m", category="quantitative", weight=100, floor=0, cap=1
    )
    default_rules[0]["id"] = foreign.pk
    with pytest.raises(DomainError) as raised:
        services.profile_rules_update(profile=default_profile, rules=default_rules)
    assert "rules[0].id" in raised.value.fields


# --- tiers_update ------------------------------------------------------------------------------


def test_tiers_update_changes_thresholds_and_keeps_history(admin_user):
    services.tiers_update(
        changes=[{"code": "vip", "min_score": 92, "target_share": 4}, {"code": "core", "min_score": 80}],
        changed_by=admin_user,
        reason="Fewer, better VIPs",
    )
    vip = Tier.objects.get(code="vip")
    assert vip.min_score == Decimal("92") and vip.target_share == Decimal("4")
    assert Tier.objects.get(code="core").min_score == Decimal("80")
    record = vip.history.latest()
    assert record.history_user == admin_user and record.prev_record.min_score == Decimal("90")
    assert record.history_change_reason == "Fewer, better VIPs"


def test_tiers_update_records_only_tiers_whose_values_change(admin_user):
    before = Tier.history.count()
    services.tiers_update(
        changes=[{"code": "vip", "min_score": 90}, {"code": "core", "min_score": "76"}],
        changed_by=admin_user,
        reason="x",
    )
    assert Tier.history.count() == before + 1
    assert Tier.history.latest().code == "core"


def test_an_applied_calibration_is_recorded_as_one(admin_user):
    services.tiers_calibration_apply(
        min_scores={"vip": Decimal("88.5"), "core": Decimal("70")}, as_of=AS_OF, changed_by=admin_user
    )
    vip = Tier.objects.get(code="vip")
    assert vip.min_score == Decimal("88.5")
    assert vip.history.latest().history_change_reason == "Calibration to target shares as of 2026-09-30"

    services.tiers_calibration_apply(
        min_scores={"vip": Decimal("89")}, as_of=AS_OF, changed_by=admin_user, note=" after the Q3 import "
    )
    assert (
        Tier.objects.get(code="vip").history.latest().history_change_reason
        == "Calibration to target shares as of 2026-09-30: after the Q3 import"
    )


def test_tiers_update_checks_the_whole_resulting_set(admin_user):
    with pytest.raises(DomainError) as raised:
        services.tiers_update(changes=[{"code": "core", "min_score": 90}], changed_by=admin_user)
    assert "core.min_score" in raised.value.fields
    assert Tier.objects.get(code="core").min_score == Decimal("75")


def test_tiers_update_allows_swapping_in_one_call(db):
    services.tiers_update(changes=[{"code": "potential", "min_score": 50}, {"code": "ordinary", "min_score": 30}])
    assert Tier.objects.get(code="ordinary").min_score == Decimal("30")


def test_tiers_update_names_bad_fields(db):
    with pytest.raises(DomainError) as raised:
        services.tiers_update(changes=[{"code": "vip", "colour": "red", "rank": 3}, {"code": "nope", "min_score": 1}])
    assert raised.value.fields["code"] == ["Unknown tier code 'nope'."]
    assert "vip.rank" in raised.value.fields
    with pytest.raises(DomainError) as raised:
        services.tiers_update(changes=[{"code": "vip", "colour": "red"}])
    assert raised.value.fields["vip.colour"] == ["Colour must look like #1a2b3c."]
    assert Tier.objects.get(code="vip").colour == "#b45309"


def test_tiers_update_refuses_non_list(db):
    with pytest.raises(DomainError):
        services.tiers_update(changes={"code": "vip"})


# --- scoring from the database -----------------------------------------------------------------


def method_example(**fields):
    """The method's example: 3 years, new-energy industry, 100,000 over 24 orders, satisfaction 4.5."""
    customer = CustomerFactory(
        industry=industry("NEV"), cooperation_since=AS_OF - datetime.timedelta(days=1096), **fields
    )
    amounts = [Decimal("4166.67")] * 23 + [Decimal("100000") - 23 * Decimal("4166.67")]  # 100,000 in all
    for n, amount in enumerate(amounts):
        OrderFactory(customer=customer, amount=amount, ordered_at=AS_OF - datetime.timedelta(days=n * 15))
    SurveyFactory(customer=customer, score=Decimal("4.5"), surveyed_at=AS_OF - datetime.timedelta(days=30))
    return customer


def test_method_example_scores_68_13_and_is_potential(db):
    customer = method_example()
    score = selectors.customer_score(customer, AS_OF)

    # The method demands the exact cent: the unrounded sum (68.127...) is 68.13, to the cent, not about it.
    assert Decimal(repr(score.result.total)) == Decimal("68.13")
    assert score.tier.code == "potential"
    assert score.profile.name == "Default" and score.profile.version == 1
    points = {rule.metric: (rule.value, rule.points, rule.max_points) for rule in score.result.rules}
    assert points["spend_12m"] == (pytest.approx(100000), 6.0, 30.0)
    assert points["satisfaction_12m"] == (4.5, 13.13, 15.0)
    assert points["strategic_potential"] == (10.0, 10.0, 10.0)


def test_customer_score_writes_nothing(db, django_assert_max_num_queries):
    customer = method_example()
    with django_assert_max_num_queries(14):
        selectors.customer_score(customer, AS_OF)
    customer.refresh_from_db()
    assert customer.score is None and customer.tier_id is None


def b2c_profile(**fields):
    """A profile whose one rule is 100 quantitative points, so its split says quantitative 100."""
    profile = ScoringProfile.objects.create(
        name=fields.pop("name", "B2C"), quantitative_points=100, qualitative_points=0, **fields
    )
    services.profile_rules_update(
        profile=profile,
        rules=[{"metric": "orders_12m", "category": "quantitative", "weight": 100, "floor": 0, "cap": 2}],
        bump_version=False,
    )
    return profile


def test_a_b2c_profile_scores_b2c_customers_only(db):
    b2c_profile(customer_type="b2c")
    shopper = CustomerFactory(customer_type="b2c")
    company = CustomerFactory(customer_type="b2b")
    for customer in (shopper, company):
        OrderFactory(customer=customer, ordered_at=AS_OF)

    scored = selectors.customers_score(Customer.objects.filter(pk__in=[shopper.pk, company.pk]), AS_OF)

    by_id = dict(zip(scored.table.customer_ids.tolist(), scored.totals.tolist(), strict=True))
    assert by_id[shopper.pk] == 50.0
    assert by_id[company.pk] != 50.0
    assert scored.profiles[int(scored.profile_ids[0])].name == "B2C"


def test_the_most_specific_profile_wins_for_industry_and_type(db):
    retail = industry("RET")
    by_industry = b2c_profile(name="Retail")
    by_industry.industries.add(retail)
    both = b2c_profile(name="Retail B2C", customer_type="b2c")
    both.industries.add(retail)
    b2c_profile(name="Any B2C", customer_type="b2c")
    inactive = b2c_profile(name="Draft", customer_type="b2b", is_active=False)
    inactive.industries.add(retail)

    customers = {
        "retail_b2c": CustomerFactory(industry=retail, customer_type="b2c"),
        "retail_b2b": CustomerFactory(industry=retail, customer_type="b2b"),
        "other_b2c": CustomerFactory(customer_type="b2c"),
        "other_b2b": CustomerFactory(customer_type="b2b"),
    }
    scored = selectors.customers_score(Customer.objects.all(), AS_OF)
    names = {
        int(cid): scored.profiles[int(pid)].name
        for cid, pid in zip(scored.table.customer_ids, scored.profile_ids, strict=True)
    }
    assert names[customers["retail_b2c"].pk] == "Retail B2C"
    assert names[customers["retail_b2b"].pk] == "Retail"
    assert names[customers["other_b2c"].pk] == "Any B2C"
    assert names[customers["other_b2b"].pk] == "Default"


def test_percentile_rules_rank_among_active_customers(db):
    profile = ScoringProfile.objects.get(is_default=True)
    services.profile_rules_update(
        profile=profile,
        rules=[{"metric": "spend_12m", "category": "quantitative", "weight": 100, "normalisation": "percentile"}],
        split={"quantitative": 100, "qualitative": 0},
        reason="Rank by spend only",
    )
    customers = [CustomerFactory() for _ in range(4)]
    for rank, customer in enumerate(customers, start=1):
        OrderFactory(customer=customer, amount=Decimal(1000 * rank), ordered_at=AS_OF)
    CustomerFactory(status=Customer.Status.TERMINATED)

    score = selectors.customer_score(customers[1], AS_OF)
    assert score.result.total == 50.0


def test_scoring_everyone_takes_the_same_number_of_queries(db, django_assert_max_num_queries):
    b2c_profile(customer_type="b2c")
    counts = []
    for size in (5, 50):
        Customer.objects.all().delete()
        for n in range(size):
            customer = CustomerFactory(customer_type="b2c" if n % 2 else "b2b")
            OrderFactory(customer=customer, ordered_at=AS_OF)
            SurveyFactory(customer=customer, surveyed_at=AS_OF)
        # tiers, profiles + rules + industries, then one query per metric family (+ fixed statements)
        with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(14):
            scored = selectors.customers_score(Customer.objects.all(), AS_OF)
        assert len(scored) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_metric_tables_stream_in_chunks_and_concatenate(db):
    customers = [CustomerFactory() for _ in range(5)]
    for customer in customers:
        OrderFactory(customer=customer, ordered_at=AS_OF)
    tables = list(selectors.metric_tables_stream(Customer.objects.all(), AS_OF, chunk_size=2))
    assert [len(t) for t in tables] == [2, 2, 1]
    whole = selectors.metric_tables_concat(tables, AS_OF)
    assert whole.customer_ids.tolist() == sorted(c.pk for c in customers)
    assert whole.metrics["orders_12m"].tolist() == [1] * 5

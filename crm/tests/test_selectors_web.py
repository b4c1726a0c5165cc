"""The reads behind the account managers' pages (crm.selectors, web section)."""

import datetime
from decimal import Decimal

import pytest

from crm.models import Customer
from crm.selectors import (
    account_managers_with_customers,
    customer_activity,
    customer_list,
    customer_tier_distribution,
    customers_flagged,
    customers_visible_to,
)
from crm.tests.factories import CustomerFactory, InteractionFactory, OrderFactory, UserFactory
from scoring.models import Tier

pytestmark = pytest.mark.django_db


@pytest.fixture
def tiers():
    return {tier.code: tier for tier in Tier.objects.order_by("rank")}


def test_distribution_counts_shares_and_targets_per_tier(manager, tiers):
    for code, count in (("vip", 1), ("core", 3)):
        for _n in range(count):
            CustomerFactory(account_manager=manager, tier=tiers[code], score=Decimal("80"))
    CustomerFactory(account_manager=manager)
    rows, untiered, total = customer_tier_distribution(customers_visible_to(manager))
    assert [row["tier"].code for row in rows] == ["vip", "core", "potential", "ordinary", "dormant"]
    assert [row["count"] for row in rows] == [1, 3, 0, 0, 0]
    assert rows[1]["share"] == 60.0
    assert rows[0]["target_share"] == float(tiers["vip"].target_share)
    assert (untiered, total) == (1, 5)


def test_distribution_of_nobody_is_zero_not_a_division_error(outsider):
    rows, untiered, total = customer_tier_distribution(customers_visible_to(outsider))
    assert total == 0 and all(row["share"] == 0.0 for row in rows)


def test_list_sorts_put_customers_without_a_score_last(manager, tiers):
    high = CustomerFactory(account_manager=manager, tier=tiers["vip"], score=Decimal("95"))
    low = CustomerFactory(account_manager=manager, tier=tiers["dormant"], score=Decimal("10"))
    none = CustomerFactory(account_manager=manager)
    customers = Customer.objects.all()
    assert list(customer_list(customers, sort="-score")) == [high, low, none]
    assert list(customer_list(customers, sort="score")) == [low, high, none]
    assert list(customer_list(customers, sort="not-a-sort")) == [high, low, none]


def test_flagged_lists_only_customers_with_flags_highest_tier_first(manager, tiers):
    CustomerFactory(account_manager=manager, tier=tiers["core"], flags=[])
    ordinary = CustomerFactory(account_manager=manager, tier=tiers["ordinary"], flags=["no_order"])
    vip = CustomerFactory(account_manager=manager, tier=tiers["vip"], flags=["spend_down"])
    assert list(customers_flagged(Customer.objects.all())) == [vip, ordinary]


def test_account_managers_are_only_people_with_customers(manager, outsider):
    CustomerFactory(account_manager=manager)
    UserFactory(username="idle")
    assert list(account_managers_with_customers()) == [manager]


def test_activity_is_newest_first_and_limited(customer):
    for day in range(1, 13):
        OrderFactory(customer=customer, ordered_at=datetime.date(2026, 1, day))
    InteractionFactory(customer=customer)
    activity = customer_activity(customer, limit=10)
    assert len(activity["orders"]) == 10
    assert activity["orders"][0].ordered_at == datetime.date(2026, 1, 12)
    assert len(activity["interactions"]) == 1 and activity["surveys"] == []


def test_changes_by_direction_count_only_the_given_customers(manager, outsider, tiers):
    from crm.selectors import tier_changes_by_direction
    from tiering.models import TierChange, TierRun

    run = TierRun.objects.create(period="2026-Q3", as_of=datetime.date(2026, 9, 30), status="succeeded")
    mine = CustomerFactory(account_manager=manager)
    theirs = CustomerFactory(account_manager=outsider)
    for customer, direction in ((mine, "upgrade"), (theirs, "upgrade"), (theirs, "downgrade")):
        TierChange.objects.create(
            run=run if customer is mine or direction == "upgrade" else None,
            customer=customer,
            from_tier=tiers["core"],
            to_tier=tiers["vip"],
            direction=direction,
            score=Decimal("91"),
        )
    assert tier_changes_by_direction(customers_visible_to(manager), run) == {"upgrade": 1}
    assert tier_changes_by_direction(customers_visible_to(manager), None) == {}

"""Reads for scoring (scoring.selectors): customers per tier."""

from decimal import Decimal

import pytest

from crm.selectors import customers_visible_to
from crm.tests.factories import CustomerFactory
from scoring.models import Tier
from scoring.selectors import customer_tier_distribution

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

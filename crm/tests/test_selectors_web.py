"""The reads of customer records behind the account managers' pages (crm.selectors)."""

import datetime
from decimal import Decimal

import pytest

from crm.models import Customer
from crm.selectors import (
    account_managers_with_customers,
    customer_activity,
    customer_list,
    customers_flagged,
)
from crm.tests.factories import CustomerFactory, InteractionFactory, OrderFactory, UserFactory
from scoring.models import Tier

pytestmark = pytest.mark.django_db


@pytest.fixture
def tiers():
    return {tier.code: tier for tier in Tier.objects.order_by("rank")}


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


def test_list_sorted_by_name_reads_in_pinyin_order(manager):
    """北京 (bei), 重庆 (chong), 广州 (guang), 上海 (shang): code points would put 上海 first."""
    for name in ("上海", "广州", "北京", "重庆"):
        CustomerFactory(account_manager=manager, name=name)
    customers = Customer.objects.all()
    assert [c.name for c in customer_list(customers, sort="name")] == ["北京", "重庆", "广州", "上海"]
    assert [c.name for c in customer_list(customers, sort="-name")] == ["上海", "广州", "重庆", "北京"]

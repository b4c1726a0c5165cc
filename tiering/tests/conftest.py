"""Customers with known scores for tiering tests.

With the seeded default profile, a customer cooperating since 2020 with a satisfaction of 5 and
24 orders of `amount` in the 12 months before 2026-10-01 scores high; no orders scores low."""

import datetime
from decimal import Decimal

import pytest

from core.tests.clock import RUN_DAY
from crm.tests.factories import CustomerFactory, OrderFactory, SurveyFactory
from scoring.models import Tier
from tiering import services
from tiering.models import TieringSettings


def orders_add(customer, *, count: int, amount: str, start: datetime.date = datetime.date(2026, 9, 25)):
    for n in range(count):
        OrderFactory(customer=customer, amount=Decimal(amount), ordered_at=start - datetime.timedelta(days=14 * n))


def strong_customer(manager, **fields):
    """Scores about 98: top tier."""
    customer = CustomerFactory(
        account_manager=manager, cooperation_since=datetime.date(2020, 1, 1), potential_rating=10, **fields
    )
    orders_add(customer, count=24, amount="25000.00")
    SurveyFactory(customer=customer, score=Decimal("5.00"), surveyed_at=datetime.date(2026, 6, 1))
    return customer


def weak_customer(manager, **fields):
    """No orders, no surveys: the lowest tier."""
    return CustomerFactory(account_manager=manager, cooperation_since=datetime.date(2025, 1, 1), **fields)


@pytest.fixture
def tiers(db):
    return {tier.code: tier for tier in Tier.objects.order_by("rank")}


@pytest.fixture
def strong(manager):
    return strong_customer(manager)


@pytest.fixture
def weak(manager):
    return weak_customer(manager)


def run_now(as_of=RUN_DAY, **options):
    """Start a run and execute it in this process (what eager Celery does after commit)."""
    options.setdefault("trigger", "manual")
    run = services.tier_run_start(as_of=as_of, enqueue=False, **options)
    return services.tier_run_execute(run)


@pytest.fixture
def tiering_settings(db):
    return TieringSettings.current()

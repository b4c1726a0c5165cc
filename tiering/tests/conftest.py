"""Customers with known scores for tiering tests.

With the seeded default profile, a customer cooperating since 2020 with a satisfaction of 5 and
24 orders of `amount` in the 12 months before 2026-10-01 scores high; no orders scores low."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings

from core.tests.clock import RUN_DAY
from crm.tests.factories import CustomerFactory, OrderFactory, SurveyFactory
from scoring import services as scoring_services
from scoring.models import ScoringProfile, Tier
from scoring.validation import RULE_FIELDS
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


def rules_of(profile: ScoringProfile) -> list[dict]:
    return [{field: getattr(rule, field) for field in RULE_FIELDS} for rule in profile.rules.order_by("position")]


def edit_rules_and_thresholds(admin_user) -> None:
    """What an administrator may do after a run: move weights inside a category, raise every
    threshold, rename the top tier, change the grace settings."""
    profile = ScoringProfile.objects.get(is_default=True)
    rules = rules_of(profile)
    weights = {rule["metric"]: rule["weight"] for rule in rules}
    for rule in rules:
        if rule["metric"] == "spend_12m":
            rule["weight"] = weights["orders_12m"]
        elif rule["metric"] == "orders_12m":
            rule["weight"] = weights["spend_12m"]
    scoring_services.profile_rules_update(profile=profile, rules=rules, changed_by=admin_user)
    scoring_services.tiers_update(
        changes=[
            {"code": "vip", "min_score": 95, "name_zh": "白金客户", "name_en": "Platinum"},
            {"code": "core", "min_score": 80},
            {"code": "potential", "min_score": 65},
            {"code": "ordinary", "min_score": 50},
        ],
        changed_by=admin_user,
    )
    TieringSettings.objects.filter(pk=1).update(grace_runs=3, spend_up_percent=Decimal("10"))


@pytest.fixture
def tiers(db):
    return {tier.code: tier for tier in Tier.objects.order_by("rank")}


@pytest.fixture
def strong(manager):
    return strong_customer(manager)


@pytest.fixture
def weak(manager):
    return weak_customer(manager)


def run_day(as_of: datetime.date) -> datetime.datetime:
    """02:00 on the as-of day in the business time zone, when the scheduled runs start."""
    return datetime.datetime.combine(as_of, datetime.time(2), tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


def run_now(as_of=RUN_DAY, **options):
    """Start a run and execute it in this process (what eager Celery does after commit), on its
    as-of day: a run may not look forward, so the clock is pinned there."""
    options.setdefault("trigger", "manual")
    with time_machine.travel(run_day(as_of), tick=True):
        run = services.tier_run_start(as_of=as_of, enqueue=False, **options)
        return services.tier_run_execute(run)


@pytest.fixture
def tiering_settings(db):
    return TieringSettings.current()

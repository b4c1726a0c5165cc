"""A small tiered book of customers: the manager's, the outsider's, one run, changes and notices."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from core.tests.clock import AS_OF
from crm.tests.factories import CustomerFactory, OrderFactory, SurveyFactory, industry
from scoring.models import Tier
from tiering.tests.factories import NoticeFactory, TierAssignmentFactory, TierChangeFactory, TierRunFactory


@pytest.fixture
def tiers(db):
    return {tier.code: tier for tier in Tier.objects.order_by("rank")}


def tiered_customer(manager, tier: Tier, score: str, **fields):
    return CustomerFactory(
        account_manager=manager, tier=tier, computed_tier=tier, score=Decimal(score), tiered_at=timezone.now(), **fields
    )


def downgrade(customer, *, run, previous_run, from_tier, to_tier, recipient, score_before="91.00", score="78.20"):
    """A recorded downgrade with the two assignments behind it and the manager's notice."""
    for tier, value, at_run in ((from_tier, score_before, previous_run), (to_tier, score, run)):
        TierAssignmentFactory(
            run=at_run,
            customer=customer,
            score=Decimal(value),
            computed_tier=tier,
            points={"spend_12m": float(value) / 4},
            metrics={},
        )
    change = TierChangeFactory(
        run=run,
        customer=customer,
        from_tier=from_tier,
        to_tier=to_tier,
        score_before=Decimal(score_before),
        score=Decimal(score),
    )
    return NoticeFactory(change=change, recipient=recipient)


def upgrade(customer, *, run, from_tier, to_tier, recipient):
    change = TierChangeFactory(
        run=run,
        customer=customer,
        from_tier=from_tier,
        to_tier=to_tier,
        score_before=Decimal("70.00"),
        score=Decimal("80.00"),
    )
    return NoticeFactory(change=change, recipient=recipient)


@pytest.fixture
def book(manager, outsider, tiers):
    """The manager owns a VIP, a core (downgraded), a potential (upgraded, flagged) and an untiered
    customer; the outsider owns one core customer with an open notice."""
    previous_run = TierRunFactory(period="2026-Q2", as_of=datetime.date(2026, 6, 30), total=4, done=4)
    run = TierRunFactory(
        period="2026-Q3",
        as_of=AS_OF,
        total=5,
        done=5,
        upgrades=1,
        downgrades=1,
        tier_counts={"vip": 1, "core": 2, "potential": 1},
        started_by=manager,
        finished_at=timezone.now(),
    )
    vip = tiered_customer(manager, tiers["vip"], "93.50", name="Zenith Robotics")
    core = tiered_customer(
        manager,
        tiers["core"],
        "78.20",
        name="Harbour Foods",
        industry=industry("EDU"),
        customer_type="b2c",
        tax_id="91310000MA1FL8XQ3K",
        bank_account="6222020200112233445",
    )
    potential = tiered_customer(
        manager,
        tiers["potential"],
        "64.00",
        name="Bright Solar",
        flags=["spend_up"],
        lifecycle="new",
    )
    untiered = CustomerFactory(account_manager=manager, name="Quiet Prospect")
    foreign = tiered_customer(outsider, tiers["core"], "77.00", name="Outsider Steel")
    OrderFactory(customer=core, amount=Decimal("12000.00"), ordered_at=datetime.date(2026, 9, 1))
    SurveyFactory(customer=core, score=Decimal("4.20"), surveyed_at=datetime.date(2026, 8, 1))
    down = downgrade(
        core, run=run, previous_run=previous_run, from_tier=tiers["vip"], to_tier=tiers["core"], recipient=manager
    )
    up = upgrade(potential, run=run, from_tier=tiers["ordinary"], to_tier=tiers["potential"], recipient=manager)
    foreign_notice = upgrade(foreign, run=run, from_tier=tiers["potential"], to_tier=tiers["core"], recipient=outsider)
    return {
        "run": run,
        "vip": vip,
        "core": core,
        "potential": potential,
        "untiered": untiered,
        "foreign": foreign,
        "down": down,
        "up": up,
        "foreign_notice": foreign_notice,
    }


@pytest.fixture
def client():
    """Assertions read English; the Chinese default has its own tests."""
    return Client(headers={"accept-language": "en"})


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def admin_client_logged(admin_user):
    """Its own client, so a test can hold a manager's and an admin's session side by side."""
    client = Client(headers={"accept-language": "en"})
    client.force_login(admin_user)
    return client

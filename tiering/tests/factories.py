"""Factories for tiering rows (runs, assignments, changes, notices, overrides), for tests that need
such rows without running a whole tier run."""

from decimal import Decimal

import factory

from core.tests.clock import AS_OF
from crm.tests.factories import CustomerFactory, UserFactory
from scoring.models import ScoringProfile, Tier
from tiering.models import Notice, TierAssignment, TierChange, TierOverride, TierRun


def tier(code: str) -> Tier:
    """Tiers are seeded by migration; tests pick them by code."""
    return Tier.objects.get(code=code)


class TierRunFactory(factory.django.DjangoModelFactory):
    """A finished run of everyone (a pending or running one would block starting another)."""

    class Meta:
        model = TierRun

    period = "2026-Q3"
    as_of = AS_OF
    status = TierRun.Status.SUCCEEDED
    trigger = TierRun.Trigger.MANUAL


class TierAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TierAssignment

    run = factory.SubFactory(TierRunFactory)
    customer = factory.SubFactory(CustomerFactory)
    score = Decimal("80.00")
    computed_tier = factory.LazyFunction(lambda: tier("core"))
    tier = factory.SelfAttribute("computed_tier")
    profile = factory.LazyFunction(lambda: ScoringProfile.objects.get(is_default=True))
    profile_version = factory.SelfAttribute("profile.version")


class TierChangeFactory(factory.django.DjangoModelFactory):
    """An upgrade from core to VIP unless told otherwise; the direction follows the tiers' ranks."""

    class Meta:
        model = TierChange

    run = factory.SubFactory(TierRunFactory)
    customer = factory.SubFactory(CustomerFactory)
    from_tier = factory.LazyFunction(lambda: tier("core"))
    to_tier = factory.LazyFunction(lambda: tier("vip"))
    direction = factory.LazyAttribute(
        lambda c: TierChange.Direction.UPGRADE if c.to_tier.rank < c.from_tier.rank else TierChange.Direction.DOWNGRADE
    )
    score_before = Decimal("80.00")
    score = Decimal("91.00")
    reasons = factory.LazyFunction(list)


class NoticeFactory(factory.django.DjangoModelFactory):
    """The notice of a change, to the customer's account manager."""

    class Meta:
        model = Notice

    change = factory.SubFactory(TierChangeFactory)
    kind = factory.SelfAttribute("change.direction")
    customer = factory.SelfAttribute("change.customer")
    run = factory.SelfAttribute("change.run")
    recipient = factory.LazyAttribute(lambda n: n.customer.account_manager)


class TierOverrideFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TierOverride

    customer = factory.SubFactory(CustomerFactory)
    tier = factory.LazyFunction(lambda: tier("vip"))
    reason = "Chairs the regional business association"
    created_by = factory.SubFactory(UserFactory, username="tier-admin", is_staff=True)

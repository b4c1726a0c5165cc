"""Prospects (no deal yet) carry a pipeline grade instead of a tier: runs leave them out by default
(a rule-book setting), and their first order makes them customers whom the next run tiers."""

import datetime

import pytest

from core.tests.clock import RUN_DAY
from crm.models import Customer
from crm.services import orders_ingest
from crm.tests.factories import CustomerFactory
from tiering.models import TierAssignment, TieringSettings
from tiering.rulebook import Rulebook, rulebook_build
from tiering.tests.conftest import run_now, strong_customer
from tiering.tests.factories import tier

pytestmark = pytest.mark.django_db


@pytest.fixture
def prospect(manager):
    return CustomerFactory(
        account_manager=manager,
        cooperation_since=None,
        prospect_grade=Customer.ProspectGrade.A,
        expected_close_on=datetime.date(2026, 10, 31),
    )


def test_a_run_leaves_prospects_untiered_by_default(manager, prospect):
    strong = strong_customer(manager)

    run_now(RUN_DAY)

    prospect.refresh_from_db()
    strong.refresh_from_db()
    assert prospect.tier is None and prospect.score is None
    assert not TierAssignment.objects.filter(customer=prospect).exists()
    assert strong.tier is not None
    assert prospect.prospect_grade == "A"


def test_with_the_setting_off_prospects_are_tiered(manager, prospect):
    TieringSettings.objects.filter(pk=TieringSettings.current().pk).update(prospects_untiered=False)

    run_now(RUN_DAY)

    prospect.refresh_from_db()
    assert prospect.tier is not None
    assert TierAssignment.objects.filter(customer=prospect).count() == 1


def test_a_prospect_tiered_earlier_loses_its_tier_at_the_next_full_run(manager, prospect):
    Customer.objects.filter(pk=prospect.pk).update(tier=tier("ordinary"), computed_tier=tier("ordinary"), score=50)

    run_now(RUN_DAY)

    prospect.refresh_from_db()
    assert (prospect.tier, prospect.computed_tier, prospect.score) == (None, None, None)


def test_the_first_order_makes_a_prospect_a_customer_and_the_next_run_tiers_it(manager, prospect):
    orders_ingest(
        rows=[
            {
                "customer": prospect.code,
                "amount": "12000.00",
                "ordered_at": "2026-09-20",
                "source": "erp",
                "external_ref": "SO-FIRST",
            },
            {
                "customer": prospect.code,
                "amount": "800.00",
                "ordered_at": "2026-09-25",
                "source": "erp",
                "external_ref": "SO-SECOND",
            },
        ],
        user=manager,
    )
    prospect.refresh_from_db()
    assert prospect.cooperation_since == datetime.date(2026, 9, 20)  # its first order's date
    assert (prospect.prospect_grade, prospect.expected_close_on) == ("", None)

    run_now(RUN_DAY)

    prospect.refresh_from_db()
    assert prospect.tier is not None
    assert TierAssignment.objects.filter(customer=prospect).count() == 1


def test_rule_books_recorded_before_the_setting_read_as_tiering_prospects(db):
    data = rulebook_build()
    assert Rulebook(data, frozen=True).settings().prospects_untiered is True

    del data["settings"]["prospects_untiered"]  # as a run from before the setting recorded it

    assert Rulebook(data, frozen=True).settings().prospects_untiered is False

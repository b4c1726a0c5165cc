"""Each customer's contact status against its tier's contact plan, kept current by the activities
logged, the tier runs, manual tiers and plan edits."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError

from core.tests.clock import RUN_DAY
from crm.models import Customer
from crm.services import interactions_record
from crm.tests.factories import CustomerFactory
from service.models import ContactPlan, ContactStatus
from service.selectors import contact_due, days_overdue
from service.services.contact import (
    contact_plan_save,
    contact_status_refresh,
    contact_status_refresh_moved,
    contact_statuses_moved,
)
from service.tests.factories import TODAY
from tiering import services as tiering_services
from tiering.models import TierRun
from tiering.tests.conftest import run_now, strong_customer
from tiering.tests.factories import TierChangeFactory, tier

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def record(customer, kind: str, occurred_at, user=None):
    """Log an activity through the one write path (the API's, the pages', the admin's)."""
    return interactions_record(
        rows=[{"customer": customer, "kind": kind, "occurred_at": occurred_at}], recorded_by=user
    )


def status_of(customer) -> ContactStatus:
    return ContactStatus.objects.get(customer=customer)


def test_a_vip_customer_visited_ten_days_ago_is_three_days_overdue(
    clock, manager, vip_customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        record(vip_customer, "visit", TODAY - 10 * DAY, manager)

    status = status_of(vip_customer)
    assert status.last_contact_on == TODAY - 10 * DAY
    assert status.due_on == TODAY - 3 * DAY
    assert days_overdue(status.due_on) == 3
    assert [row.customer for row in contact_due(manager, state="overdue")] == [vip_customer]


def test_logging_a_call_moves_the_next_contact_and_a_complaint_does_not(
    clock, manager, vip_customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        record(vip_customer, "visit", TODAY - 10 * DAY, manager)
    with django_capture_on_commit_callbacks(execute=True):
        record(vip_customer, "call", clock.isoformat(), manager)

    assert status_of(vip_customer).due_on == TODAY + 7 * DAY
    assert not contact_due(manager, state="overdue").exists()
    assert [row.customer for row in contact_due(manager, state="due")] == [vip_customer]  # due within 7 days

    with django_capture_on_commit_callbacks(execute=True):
        record(vip_customer, "complaint", TODAY + 0 * DAY, manager)  # not a contact under the VIP plan
    assert status_of(vip_customer).due_on == TODAY + 7 * DAY


def test_a_dormant_customer_is_due_within_30_days_of_entering_dormant_and_not_once_contacted(
    clock, manager, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(account_manager=manager, tier=tier("dormant"))
    with django_capture_on_commit_callbacks(execute=True):
        record(customer, "visit", TODAY - 60 * DAY, manager)  # before it fell dormant: does not count
    # The run that moved it started at 02:00 on 6 October in the business time zone (the 5th in UTC).
    entered = datetime.datetime(2026, 10, 6, 2, 0, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))
    with time_machine.travel(entered, tick=False):
        TierChangeFactory(customer=customer, from_tier=tier("ordinary"), to_tier=tier("dormant"))
    contact_status_refresh([customer.pk])

    status = status_of(customer)
    assert status.tier_since == datetime.date(2026, 10, 6)
    assert status.due_on == datetime.date(2026, 11, 5)  # one win-back contact within 30 days
    assert status.last_contact_on == TODAY - 60 * DAY

    with django_capture_on_commit_callbacks(execute=True):
        record(customer, "call", TODAY, manager)

    status = status_of(customer)
    assert status.last_contact_on == TODAY and status.due_on is None
    assert not contact_due(manager).exists()


def test_a_plan_edit_recomputes_every_customers_status(clock, manager, django_capture_on_commit_callbacks):
    visited = CustomerFactory(account_manager=manager, tier=tier("vip"))
    called = CustomerFactory(account_manager=manager, tier=tier("vip"))
    core = CustomerFactory(account_manager=manager, tier=tier("core"))
    with django_capture_on_commit_callbacks(execute=True):
        record(visited, "visit", TODAY - 2 * DAY, manager)
        record(called, "call", TODAY - 5 * DAY, manager)
        record(core, "call", TODAY - 5 * DAY, manager)
    assert status_of(visited).due_on == TODAY + 5 * DAY

    plan = ContactPlan.objects.get(tier__code="vip")
    plan.every_days = 14
    with django_capture_on_commit_callbacks(execute=True):
        contact_plan_save(plan=plan)

    assert status_of(visited).due_on == TODAY + 12 * DAY
    assert status_of(called).due_on == TODAY + 9 * DAY
    assert status_of(core).due_on == TODAY + 25 * DAY  # the core plan (monthly) is unchanged


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"every_days": 0}, "every_days"),
        ({"every_days": -7}, "every_days"),
        ({"every_days": None}, "every_days"),  # neither a cadence nor a win-back window
        ({"win_back_days": 30}, "win_back_days"),  # both
        ({"contact_kinds": []}, "contact_kinds"),
        ({"contact_kinds": ["visit", "fax"]}, "contact_kinds"),
    ],
)
def test_a_bad_plan_is_refused_naming_the_field_and_nothing_is_stored(changes, field):
    plan = ContactPlan.objects.get(tier__code="vip")
    for name, value in changes.items():
        setattr(plan, name, value)

    with pytest.raises(ValidationError) as refused:
        contact_plan_save(plan=plan)

    assert field in refused.value.message_dict
    stored = ContactPlan.objects.get(tier__code="vip")
    assert (stored.every_days, stored.win_back_days, stored.contact_kinds) == (
        7,
        None,
        ["visit", "call", "meeting", "email"],
    )


def test_a_run_that_changes_a_tier_refreshes_the_statuses(manager, django_capture_on_commit_callbacks):
    strong = strong_customer(manager)
    with django_capture_on_commit_callbacks(execute=True):
        run_now(RUN_DAY)
    status = status_of(strong)
    assert status.tier.code == "vip" and status.due_on == status.tier_since + 7 * DAY

    later = datetime.date(2027, 7, 1)  # a year without orders: the customer falls
    with django_capture_on_commit_callbacks(execute=True):
        run = run_now(later)

    assert run.status == TierRun.Status.SUCCEEDED
    strong.refresh_from_db()
    status = status_of(strong)
    assert strong.tier.code != "vip" and status.tier == strong.tier
    assert status.tier_since == later  # the run's day in the business time zone (it ran at 02:00)


def test_a_manual_tier_refreshes_that_customers_status(clock, admin_user, manager, django_capture_on_commit_callbacks):
    customer = CustomerFactory(account_manager=manager, tier=tier("ordinary"))
    contact_status_refresh([customer.pk])
    assert status_of(customer).tier.code == "ordinary"

    with django_capture_on_commit_callbacks(execute=True):
        tiering_services.override_set(customer=customer, tier="vip", reason="Chairs the association", set_by=admin_user)

    assert status_of(customer).tier.code == "vip"


def test_customers_without_a_tier_have_no_status(clock, manager, vip_customer):
    prospect = CustomerFactory(account_manager=manager, cooperation_since=None, tier=None)
    contact_status_refresh(None)
    assert ContactStatus.objects.filter(customer=vip_customer).exists()
    assert not ContactStatus.objects.filter(customer=prospect).exists()

    vip_customer.tier = None
    vip_customer.save()
    contact_status_refresh([vip_customer.pk])
    assert not ContactStatus.objects.filter(customer=vip_customer).exists()


def test_after_a_run_the_customers_whose_tier_moved_are_refreshed_and_only_they(clock, manager):
    kept, moved, untiered = (CustomerFactory(account_manager=manager, tier=tier("vip")) for _ in range(3))
    contact_status_refresh(None)
    newly_tiered = CustomerFactory(account_manager=manager, tier=tier("core"))
    Customer.objects.filter(pk=moved.pk).update(tier=tier("core"))
    Customer.objects.filter(pk=untiered.pk).update(tier=None)
    ContactStatus.objects.filter(customer=kept).update(due_on=None)  # not a move: a run leaves it

    assert contact_statuses_moved() == sorted([moved.pk, untiered.pk, newly_tiered.pk])
    assert contact_status_refresh_moved() == 3

    assert status_of(moved).tier.code == "core" and status_of(newly_tiered).tier.code == "core"
    assert not ContactStatus.objects.filter(customer=untiered).exists()
    assert status_of(kept).due_on is None
    assert contact_statuses_moved() == []


def test_a_refresh_writes_only_the_statuses_that_differ(clock, manager, django_capture_on_commit_callbacks):
    customers = [CustomerFactory(account_manager=manager, tier=tier("vip")) for _ in range(3)]
    assert contact_status_refresh(None) == 3
    assert contact_status_refresh(None) == 0
    with django_capture_on_commit_callbacks(execute=True):
        record(customers[0], "visit", TODAY, manager)
    assert contact_status_refresh([c.pk for c in customers]) == 0  # the activity already moved it
    assert status_of(customers[0]).due_on == TODAY + 7 * DAY


def test_a_plan_edit_with_the_broker_down_still_recomputes_the_statuses(
    clock, manager, vip_customer, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    contact_status_refresh(None)

    class BrokerDown:
        def __init__(self, name):
            self.name = name

        def apply_async(self, **options):
            raise ConnectionRefusedError("redis is down")

    monkeypatch.setattr("service.services.contact.signature", BrokerDown)
    plan = ContactPlan.objects.get(tier__code="vip")
    plan.every_days = 3
    with django_capture_on_commit_callbacks(execute=True):
        contact_plan_save(plan=plan)

    assert status_of(vip_customer).due_on == status_of(vip_customer).tier_since + 3 * DAY
    assert any("refreshing in this process" in record.getMessage() for record in caplog.records)

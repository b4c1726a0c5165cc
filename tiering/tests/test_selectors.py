import datetime
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser

from core.exceptions import DomainError
from core.tests.clock import RUN_DAY
from crm.models import Customer
from crm.selectors import customers_visible_to
from crm.tests.factories import CustomerFactory
from scoring.models import Tier
from tiering import selectors, services
from tiering.models import Notice, TierChange
from tiering.tests.conftest import run_now, strong_customer
from tiering.tests.factories import TierAssignmentFactory, TierChangeFactory, TierRunFactory

LATER = datetime.date(2027, 7, 1)


def _two_downgrades(manager, outsider):
    strong_customer(manager)
    strong_customer(outsider)
    run_now(RUN_DAY)
    return run_now(LATER)


def test_managers_see_their_own_notices_and_admins_all(manager, outsider, admin_user):
    _two_downgrades(manager, outsider)
    assert [n.recipient for n in selectors.notices_for(manager)] == [manager]
    assert [n.recipient for n in selectors.notices_for(outsider)] == [outsider]
    assert selectors.notices_for(admin_user).count() == 2


def test_a_manager_no_longer_sees_notices_about_a_customer_handed_to_a_colleague(manager, outsider, admin_user):
    _two_downgrades(manager, outsider)
    mine, theirs = Notice.objects.get(recipient=manager), Notice.objects.get(recipient=outsider)
    Customer.objects.filter(pk=mine.customer_id).update(account_manager=outsider)
    assert not selectors.notices_visible_to(manager).exists()
    assert not selectors.notices_for(manager).exists()
    assert services.notices_acknowledge(user=manager, notice_ids=[mine.pk]) == 0
    assert list(selectors.notices_visible_to(outsider)) == [theirs]  # their own only, not manager's old one
    assert selectors.notices_visible_to(admin_user).count() == 2
    assert not selectors.notices_visible_to(AnonymousUser()).exists()
    assert not selectors.notices_visible_to(None).exists()


def test_acknowledging_counts_only_own_notices(manager, outsider, admin_user):
    _two_downgrades(manager, outsider)
    others = list(selectors.notices_for(outsider).values_list("pk", flat=True))
    assert services.notices_acknowledge(user=manager, notice_ids=others) == 0
    counts = {row["username"]: row["open"] for row in selectors.unacknowledged_notice_counts()}
    assert counts == {"manager": 1, "outsider": 1}
    own = list(selectors.notices_for(manager).values_list("pk", flat=True))
    assert services.notices_acknowledge(user=manager, notice_ids=own) == 1
    assert services.notices_acknowledge(user=admin_user, notice_ids=others) == 1
    assert selectors.unacknowledged_notice_counts() == []


def test_acknowledging_rejects_bad_ids(manager):
    with pytest.raises(DomainError) as error:
        services.notices_acknowledge(user=manager, notice_ids=["x"])
    assert "notice_ids" in error.value.fields


def test_change_feed_is_ordered_and_filterable(manager, outsider):
    run = _two_downgrades(manager, outsider)
    feed = list(selectors.tier_changes_feed())
    assert [c.pk for c in feed] == sorted(c.pk for c in feed)
    assert selectors.tier_changes_feed(direction="upgrade").count() == 0
    assert selectors.tier_changes_feed(run=run).count() == 2
    code = feed[0].customer.code
    assert [c.customer.code for c in selectors.tier_changes_feed(customer_code=code)] == [code]
    assert selectors.tier_changes_feed(since=feed[-1].created_at).count() == 0


def test_history_and_latest_run(manager, outsider):
    run = _two_downgrades(manager, outsider)
    customer = TierChange.objects.filter(run=run).first().customer
    history = list(selectors.assignments_for(customer))
    assert len(history) == 2 and history[0].run == run
    assert selectors.latest_run() == run
    assert list(selectors.runs_list())[0] == run


@pytest.mark.django_db
def test_changes_by_direction_count_only_the_given_customers(manager, outsider):
    tiers = {tier.code: tier for tier in Tier.objects.all()}
    run = TierRunFactory()
    mine = CustomerFactory(account_manager=manager)
    theirs = CustomerFactory(account_manager=outsider)
    for customer, direction in ((mine, "upgrade"), (theirs, "upgrade"), (theirs, "downgrade")):
        TierChangeFactory(
            run=run if customer is mine or direction == "upgrade" else None,
            customer=customer,
            from_tier=tiers["core"],
            to_tier=tiers["vip"],
            direction=direction,
            score=Decimal("91"),
        )
    assert selectors.tier_changes_by_direction(customers_visible_to(manager), run) == {"upgrade": 1}
    assert selectors.tier_changes_by_direction(customers_visible_to(manager), None) == {}


def test_a_period_run_again_counts_once_in_the_history_per_period(customer):
    """A forced rerun's row stands for its period; both stay in the full history."""
    june = TierRunFactory(period="2026-Q2", as_of=datetime.date(2026, 6, 30))
    september = TierRunFactory(period="2026-Q3", as_of=datetime.date(2026, 9, 30))
    rerun = TierRunFactory(period="2026-Q3", as_of=datetime.date(2026, 9, 30), forced=True)
    for run in (june, september, rerun):
        TierAssignmentFactory(run=run, customer=customer)
    TierAssignmentFactory(run=september)  # another customer's row of the first run is no reason to keep it
    assert [a.run for a in selectors.assignments_latest_per_period(customer)] == [rerun, june]
    assert [a.run for a in selectors.assignments_for(customer)] == [rerun, september, june]


def test_history_and_changes_read_newest_first_by_the_runs_as_of_date(customer, tiers):
    september = TierRunFactory(period="2026-Q3", as_of=datetime.date(2026, 9, 30))
    june = TierRunFactory(period="2026-Q2", as_of=datetime.date(2026, 6, 30))  # started later, looks further back
    for run in (september, june):
        TierAssignmentFactory(run=run, customer=customer)
    with time_machine.travel(datetime.datetime(2026, 11, 29, 10, tzinfo=datetime.UTC)):
        feed_order = [
            TierChangeFactory(run=september, customer=customer),
            TierChangeFactory(run=june, customer=customer),
        ]
    with time_machine.travel(datetime.datetime(2026, 11, 29, 17, tzinfo=datetime.UTC)):  # 30 Nov in Shanghai
        manual = TierChangeFactory(run=None, customer=customer)
    assert [a.run for a in selectors.assignments_for(customer)] == [september, june]
    assert list(selectors.tier_changes_for(customer)) == [manual, feed_order[0], feed_order[1]]
    assert selectors.tier_changes_for(customer)[0].day == datetime.date(2026, 11, 30)
    # The change feed keeps the order changes were written in, for consumers that sync by id.
    assert list(selectors.tier_changes_feed(customer_code=customer.code)) == [*feed_order, manual]

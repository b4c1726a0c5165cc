"""The dashboard's case cards: open cases, breaches this month and compliance, per tier at opening."""

import datetime
import zoneinfo

import pytest

from commitments.models import Case
from commitments.selectors import case_cards, open_cases
from crm.tests.factories import CustomerFactory
from tiering.tests.factories import tier

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 11, 15, 12, 0, tzinfo=SHANGHAI)


def at(*parts):
    return datetime.datetime(*parts, tzinfo=SHANGHAI)


def case(customer, opened, due, *, answered=None, breached=None, status="open"):
    return Case.objects.create(
        customer=customer,
        kind="request",
        subject="Stopped",
        owner=customer.account_manager,
        status=status,
        opened_at=opened,
        tier=customer.tier,
        response_minutes=120,
        clock="business",
        first_response_due_at=due,
        reminder_at=due,
        first_response_at=answered,
        breached_at=breached,
    )


def test_breaches_count_in_the_month_they_happen_and_compliance_over_this_months_cases(
    manager, outsider, django_assert_num_queries
):
    mine = CustomerFactory(account_manager=manager, tier=tier("core"))
    theirs = CustomerFactory(account_manager=outsider, tier=tier("core"))
    late_october = case(mine, at(2026, 10, 31, 17), at(2026, 11, 2, 10), breached=at(2026, 11, 2, 10, 1))
    case(mine, at(2026, 11, 3, 9), at(2026, 11, 3, 11), answered=at(2026, 11, 3, 10))  # in time
    case(mine, at(2026, 11, 4, 9), at(2026, 11, 4, 11), answered=at(2026, 11, 4, 12), status="resolved")  # late
    case(mine, at(2026, 11, 15, 11), at(2026, 11, 15, 13))  # not due yet
    case(mine, at(2026, 10, 2, 9), at(2026, 10, 2, 11), breached=at(2026, 10, 2, 11, 1), status="closed")
    case(theirs, at(2026, 11, 3, 9), at(2026, 11, 3, 11), breached=at(2026, 11, 3, 11, 1))
    with django_assert_num_queries(3):  # the figures, and the user's permissions (2)
        [core] = case_cards(manager, now=NOW)
    assert (core["tier__code"], core["open"], core["breaches"]) == ("core", 3, 1)
    assert (core["met"], core["measured"], core["compliance"]) == (1, 2, 50.0)
    assert list(open_cases(manager))[0] == late_october  # unanswered, nearest deadline first

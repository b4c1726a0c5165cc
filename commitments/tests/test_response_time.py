"""A first response is measured on the case's own clock, in the units its promise was made in:
working minutes on business hours (nights, weekends, holidays left out), plain minutes 24x7."""

import datetime
import zoneinfo

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from commitments.clock import Hours, add_business_minutes, business_minutes_between, minutes_around_the_clock
from commitments.models import Case
from commitments.services import cases as case_services
from crm.services import interactions_record
from crm.tests.factories import CustomerFactory
from tiering.tests.factories import tier

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
HOURS = Hours(
    start=datetime.time(9),
    end=datetime.time(18),
    weekdays=frozenset(range(5)),
    tz="Asia/Shanghai",
    holidays=frozenset({datetime.date(2026, 10, 1), datetime.date(2026, 10, 2), datetime.date(2026, 10, 5)}),
    workdays=frozenset({datetime.date(2026, 10, 10)}),
)


def at(*parts) -> datetime.datetime:
    return datetime.datetime(*parts, tzinfo=SHANGHAI)


def test_working_minutes_leave_out_the_night_the_weekend_and_holidays():
    assert business_minutes_between(at(2026, 11, 27, 17, 30), at(2026, 11, 30, 10, 30), HOURS) == 120
    assert business_minutes_between(at(2026, 9, 30, 17, 0), at(2026, 10, 6, 9, 30), HOURS) == 90
    assert business_minutes_between(at(2026, 10, 9, 17, 0), at(2026, 10, 10, 10, 0), HOURS) == 120  # make-up Saturday
    assert business_minutes_between(at(2026, 11, 28, 10, 0), at(2026, 11, 29, 10, 0), HOURS) == 0  # a weekend
    assert business_minutes_between(at(2026, 11, 30, 10, 0), at(2026, 11, 30, 9, 0), HOURS) == 0
    assert minutes_around_the_clock(at(2026, 10, 1, 23, 50), at(2026, 10, 2, 0, 5)) == 15


@given(
    start=st.datetimes(min_value=datetime.datetime(2026, 9, 1), max_value=datetime.datetime(2026, 12, 31)),
    minutes=st.integers(min_value=1, max_value=5000),
)
def test_measuring_undoes_adding(start, minutes):
    start = start.replace(tzinfo=SHANGHAI, second=0, microsecond=0)
    due = add_business_minutes(start, minutes, HOURS)
    assert business_minutes_between(start, due, HOURS) == pytest.approx(minutes)


@pytest.mark.django_db
def test_a_core_case_answered_monday_morning_took_its_working_minutes(manager):
    customer = CustomerFactory(account_manager=manager, tier=tier("core"))
    with time_machine.travel(at(2026, 11, 27, 17, 30), tick=False):  # a Friday
        case = case_services.case_open(customer=customer.code, kind="request", subject="Stopped", user=manager)
    with time_machine.travel(at(2026, 11, 30, 10, 0), tick=False):  # Monday
        case_services.case_respond(case=case, user=manager, body="Looking at it")
    case.refresh_from_db()
    assert case.first_response_seconds == 90 * 60  # 30 on Friday, 60 on Monday: not 64.5 hours
    assert case.met_first_response is True


@pytest.mark.django_db
def test_an_activity_that_answers_a_case_is_measured_the_same_way(manager, django_capture_on_commit_callbacks):
    customer = CustomerFactory(account_manager=manager, tier=tier("core"))
    with time_machine.travel(at(2026, 11, 27, 17, 30), tick=False):
        case = case_services.case_open(customer=customer.code, kind="request", subject="Stopped", user=manager)
    with (
        time_machine.travel(at(2026, 11, 30, 11, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        interactions_record(
            rows=[{"customer": customer, "kind": "call", "occurred_at": "2026-11-30T11:00:00+08:00"}],
            recorded_by=manager,
        )
    case.refresh_from_db()
    assert (case.status, case.first_response_seconds) == (Case.Status.IN_PROGRESS, 150 * 60)
    assert case.met_first_response is False  # due Monday 10:30

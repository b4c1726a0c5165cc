"""The service-level clock: around the clock, or in business hours with holidays and make-up days."""

import datetime
import zoneinfo

import pytest

from commitments.clock import Hours, add_around_the_clock, add_business_minutes

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
HOURS = Hours(
    start=datetime.time(9),
    end=datetime.time(18),
    weekdays=frozenset(range(5)),
    tz="Asia/Shanghai",
    holidays=frozenset({datetime.date(2026, 10, 1), datetime.date(2026, 10, 2), datetime.date(2026, 10, 5)}),
    workdays=frozenset({datetime.date(2026, 10, 10)}),  # a Saturday worked to lengthen the holiday
)


def at(*parts) -> datetime.datetime:
    return datetime.datetime(*parts, tzinfo=SHANGHAI)


def test_around_the_clock_ignores_holidays_and_midnight():
    assert add_around_the_clock(at(2026, 10, 1, 23, 50), 15) == at(2026, 10, 2, 0, 5)


def test_business_hours_carry_over_the_weekend():
    # Friday 17:30 + 2 hours: 30 minutes on Friday, 90 on Monday from 9:00.
    assert add_business_minutes(at(2026, 11, 27, 17, 30), 120, HOURS) == at(2026, 11, 30, 10, 30)


def test_business_hours_start_at_opening_and_skip_public_holidays():
    # Opened on the National Day holiday: the clock starts Tuesday 6 October at 9:00 (5 Oct is a holiday too).
    assert add_business_minutes(at(2026, 10, 1, 11, 0), 60, HOURS) == at(2026, 10, 6, 10, 0)


def test_a_make_up_working_saturday_counts():
    assert add_business_minutes(at(2026, 10, 9, 17, 0), 120, HOURS) == at(2026, 10, 10, 10, 0)


def test_a_deadline_exactly_at_closing_stays_on_that_day():
    assert add_business_minutes(at(2026, 11, 30, 9, 0), 9 * 60, HOURS) == at(2026, 11, 30, 18, 0)


def test_a_calendar_without_working_hours_is_refused():
    empty = Hours(start=datetime.time(9), end=datetime.time(9), weekdays=frozenset(range(5)), tz="Asia/Shanghai")
    with pytest.raises(ValueError):
        add_business_minutes(at(2026, 11, 30, 9, 0), 60, empty)

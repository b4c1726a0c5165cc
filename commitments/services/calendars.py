"""Business calendars: their working time as a clock, and public holidays seeded from `holidays`."""

from __future__ import annotations

import datetime

import holidays
from django.db import transaction

from commitments.clock import Hours
from commitments.models import BusinessCalendar, CalendarDay


def hours_of(calendar: BusinessCalendar) -> Hours:
    """The calendar as a pure clock (one query for its days)."""
    days = list(calendar.days.values_list("date", "kind"))
    return Hours(
        start=calendar.work_start,
        end=calendar.work_end,
        weekdays=frozenset(int(d) - 1 for d in calendar.weekdays),
        tz=calendar.time_zone,
        holidays=frozenset(day for day, kind in days if kind == CalendarDay.Kind.HOLIDAY),
        workdays=frozenset(day for day, kind in days if kind == CalendarDay.Kind.WORKDAY),
    )


@transaction.atomic
def calendar_seed_china(calendar: BusinessCalendar, years: list[int]) -> int:
    """Add mainland China's public holidays and make-up working days for `years` (from the
    `holidays` package); days already in the calendar (perhaps edited) are left alone."""
    china = holidays.China(years=years)
    rows = [
        CalendarDay(calendar=calendar, date=day, kind=CalendarDay.Kind.HOLIDAY, name=str(name)[:100])
        for day, name in sorted(china.items())
    ]
    rows += [
        CalendarDay(calendar=calendar, date=day, kind=CalendarDay.Kind.WORKDAY, name="")
        for day in sorted(china.weekend_workdays)
        if day.year in years
    ]
    before = calendar.days.count()
    CalendarDay.objects.bulk_create(rows, ignore_conflicts=True)
    return calendar.days.count() - before


def default_calendar_years(today: datetime.date) -> list[int]:
    return [today.year - 1, today.year, today.year + 1]

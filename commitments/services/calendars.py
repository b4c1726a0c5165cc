"""Business calendars: their working time as a clock, and public holidays seeded from `holidays`."""

from __future__ import annotations

import datetime

import holidays
from django.db import transaction
from django.db.models import Q

from commitments.clock import Hours
from commitments.models import BusinessCalendar, CalendarDay, ServiceLevel


def hours_of(calendar: BusinessCalendar) -> Hours:
    """The calendar as a pure clock (one query for its days)."""
    return _hours(calendar, list(calendar.days.values_list("date", "kind")))


def hours_by_tier(tier_ids) -> dict[int | None, Hours]:
    """The business hours the service level of each tier (None: customers without a tier) runs
    on, for those on a business-hours clock; two queries whatever the number of tiers."""
    wanted = set(tier_ids)
    which = Q(tier_id__in=[pk for pk in wanted if pk is not None])
    if None in wanted:
        which |= Q(tier__isnull=True)
    levels = list(
        ServiceLevel.objects.filter(which, clock=ServiceLevel.Clock.BUSINESS, calendar__isnull=False).select_related(
            "calendar"
        )
    )
    if not levels:
        return {}
    days: dict[int, list[tuple[datetime.date, str]]] = {}
    for calendar_id, day, kind in CalendarDay.objects.filter(
        calendar_id__in={level.calendar_id for level in levels}
    ).values_list("calendar_id", "date", "kind"):
        days.setdefault(calendar_id, []).append((day, kind))
    return {level.tier_id: _hours(level.calendar, days.get(level.calendar_id, [])) for level in levels}


def _hours(calendar: BusinessCalendar, days: list[tuple[datetime.date, str]]) -> Hours:
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

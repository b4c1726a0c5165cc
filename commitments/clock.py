"""Service-level time: adding minutes around the clock or in business hours, as a pure function.

Business hours are a calendar's working hours on its working days: weekdays (Monday-Friday by
default) that are not public holidays, plus make-up working days (China moves weekend days to
lengthen holidays). No queries: the caller passes the calendar's days, so a clock is testable
in microseconds and the SLA sweep never reads a calendar per case.
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass, field

MAX_DAYS_AHEAD = 3660  # a deadline further than ten years out means the calendar has no working time


@dataclass(frozen=True)
class Hours:
    start: datetime.time
    end: datetime.time
    weekdays: frozenset[int]  # 0 = Monday
    tz: str
    holidays: frozenset[datetime.date] = field(default_factory=frozenset)
    workdays: frozenset[datetime.date] = field(default_factory=frozenset)  # make-up working days

    def is_working_day(self, day: datetime.date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() in self.weekdays and day not in self.holidays

    @property
    def minutes_per_day(self) -> int:
        start = self.start.hour * 60 + self.start.minute
        end = self.end.hour * 60 + self.end.minute
        return max(end - start, 0)


def add_around_the_clock(start: datetime.datetime, minutes: float) -> datetime.datetime:
    return start + datetime.timedelta(minutes=minutes)


def add_business_minutes(start: datetime.datetime, minutes: float, hours: Hours) -> datetime.datetime:
    """The moment `minutes` of working time after `start` (aware), in the calendar's zone.
    Time before opening counts from the opening; time after closing from the next working day."""
    if hours.minutes_per_day <= 0:
        raise ValueError("calendar has no working hours")
    zone = zoneinfo.ZoneInfo(hours.tz)
    local = start.astimezone(zone)
    remaining = datetime.timedelta(minutes=minutes)
    day = local.date()
    for _ in range(MAX_DAYS_AHEAD):
        if hours.is_working_day(day):
            opens = datetime.datetime.combine(day, hours.start, tzinfo=zone)
            closes = datetime.datetime.combine(day, hours.end, tzinfo=zone)
            begin = max(local, opens)
            if begin < closes:
                available = closes - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(start.tzinfo)
                remaining -= available
        day += datetime.timedelta(days=1)
        local = datetime.datetime.combine(day, datetime.time(0), tzinfo=zone)
    raise ValueError("calendar has no working day within ten years")


def minutes_around_the_clock(start: datetime.datetime, end: datetime.datetime) -> float:
    """Minutes from `start` to `end` (0 when `end` is not after `start`)."""
    return max((end - start).total_seconds() / 60, 0.0)


def business_minutes_between(start: datetime.datetime, end: datetime.datetime, hours: Hours) -> float:
    """Working minutes from `start` to `end` (aware): the inverse of add_business_minutes, so a
    response is measured in the units its promise was made in (0 when `end` is not after `start`)."""
    if end <= start:
        return 0.0
    zone = zoneinfo.ZoneInfo(hours.tz)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    total = datetime.timedelta()
    day = local_start.date()
    while day <= local_end.date():
        if hours.is_working_day(day):
            opens = datetime.datetime.combine(day, hours.start, tzinfo=zone)
            closes = datetime.datetime.combine(day, hours.end, tzinfo=zone)
            begin, finish = max(local_start, opens), min(local_end, closes)
            if finish > begin:
                total += finish - begin
        day += datetime.timedelta(days=1)
    return total.total_seconds() / 60

"""Every periodic task fires when the README says, checked field by field: a cron that fires at the
right hour of the wrong days (or every minute of that hour) must fail here."""

import io
import json

import pytest
from django.core.management import call_command
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from tiering import schedules

EVERY_MINUTE = set(range(60))
EVERY_HOUR = set(range(24))
EVERY_DAY_OF_MONTH = set(range(1, 32))
EVERY_MONTH = set(range(1, 13))
EVERY_DAY_OF_WEEK = set(range(7))
QUARTER_MONTHS = {1, 4, 7, 10}

# The README's table ("Scheduled runs"), written out as the sets of minutes, hours, days and months
# a crontab fires on, in the project time zone. Written down here, not read from schedules.py.
README = {
    # "02:00 on 1 January, 1 April, 1 July, 1 October"
    schedules.QUARTERLY_RUN: {
        "task": "tiering.tasks.tier_run_scheduled",
        "kwargs": {"scope": "all"},
        "fires": {
            "minute": {0},
            "hour": {2},
            "day_of_month": {1},
            "month_of_year": QUARTER_MONTHS,
            "day_of_week": EVERY_DAY_OF_WEEK,
        },
    },
    # "02:00 on the 1st of the other months"
    schedules.MONTHLY_RUN: {
        "task": "tiering.tasks.tier_run_scheduled",
        "kwargs": {"scope": "vip_at_risk"},
        "fires": {
            "minute": {0},
            "hour": {2},
            "day_of_month": {1},
            "month_of_year": EVERY_MONTH - QUARTER_MONTHS,
            "day_of_week": EVERY_DAY_OF_WEEK,
        },
    },
    # "checked daily at 09:00"
    schedules.DOWNGRADE_WARNINGS: {
        "task": "tiering.tasks.downgrade_warnings_send",
        "kwargs": {},
        "fires": {
            "minute": {0},
            "hour": {9},
            "day_of_month": EVERY_DAY_OF_MONTH,
            "month_of_year": EVERY_MONTH,
            "day_of_week": EVERY_DAY_OF_WEEK,
        },
    },
    # "hourly, at minute 17"
    schedules.SWEEP: {
        "task": "tiering.tasks.reevaluate_sweep",
        "kwargs": {},
        "fires": {
            "minute": {17},
            "hour": EVERY_HOUR,
            "day_of_month": EVERY_DAY_OF_MONTH,
            "month_of_year": EVERY_MONTH,
            "day_of_week": EVERY_DAY_OF_WEEK,
        },
    },
}
FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")


def _fires(cron: CrontabSchedule) -> dict[str, set[int]]:
    """What Celery beat makes of the row: the minutes, hours, days and months it fires on."""
    schedule = cron.schedule
    return {field: set(getattr(schedule, field)) for field in FIELDS}


def _assert_rows_match_the_readme() -> None:
    rows = {task.name: task for task in PeriodicTask.objects.filter(name__startswith="tiering:")}
    assert set(rows) == set(README)
    words = {name: text for name, _task, _cron, _kwargs, text in schedules.PERIODIC_TASKS}
    for name, expected in README.items():
        row = rows[name]
        assert (row.task, json.loads(row.kwargs)) == (expected["task"], expected["kwargs"]), name
        assert row.enabled and not row.one_off and row.interval is None and row.crontab is not None, name
        assert str(row.crontab.timezone) == "Asia/Shanghai", name
        assert _fires(row.crontab) == expected["fires"], name
        assert row.description == words[name], name


def test_the_schedule_list_says_what_the_readme_says():
    """tiering/schedules.py alone, as the migration and the command read it."""
    assert [row[0] for row in schedules.PERIODIC_TASKS] == list(README)
    for name, task, cron, kwargs, _words in schedules.PERIODIC_TASKS:
        fires = CrontabSchedule(**dict(zip(FIELDS, cron, strict=True)), timezone="Asia/Shanghai")
        assert (task, kwargs, _fires(fires)) == (README[name]["task"], README[name]["kwargs"], README[name]["fires"])


def test_every_month_has_exactly_one_scheduled_run_on_its_first_day():
    months = [README[name]["fires"]["month_of_year"] for name in (schedules.QUARTERLY_RUN, schedules.MONTHLY_RUN)]
    assert months[0] | months[1] == EVERY_MONTH and not months[0] & months[1]


@pytest.mark.django_db
def test_the_migration_creates_the_beat_schedule_the_readme_describes():
    _assert_rows_match_the_readme()


@pytest.mark.django_db
def test_setup_periodic_tasks_restores_edited_rows_without_duplicates():
    PeriodicTask.objects.filter(name=schedules.SWEEP).delete()
    PeriodicTask.objects.filter(name=schedules.QUARTERLY_RUN).update(enabled=False)
    # An admin moves the monthly run to every day of its months at 03:30.
    edited, _created = CrontabSchedule.objects.get_or_create(
        minute="30",
        hour="3",
        day_of_month="*",
        month_of_year="2,3,5,6,8,9,11,12",
        day_of_week="*",
        timezone="Asia/Shanghai",
    )
    PeriodicTask.objects.filter(name=schedules.MONTHLY_RUN).update(crontab=edited)

    call_command("setup_periodic_tasks", stdout=io.StringIO())
    call_command("setup_periodic_tasks", stdout=io.StringIO())

    assert PeriodicTask.objects.filter(name__startswith="tiering:").count() == 4
    _assert_rows_match_the_readme()

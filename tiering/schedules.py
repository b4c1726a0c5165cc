"""Every periodic task of tiering, in one place. The data migration and `setup_periodic_tasks` both
create the django-celery-beat rows from this list, so admins see and edit them in Django admin."""

from __future__ import annotations

import datetime
import json

QUARTERLY_RUN = "tiering: quarterly re-tier of all customers"
MONTHLY_RUN = "tiering: monthly re-tier of VIP and at-risk customers"
DOWNGRADE_WARNINGS = "tiering: downgrade warnings before the quarterly run"
SWEEP = "tiering: hourly re-evaluation sweep"

# name, task, crontab (minute, hour, day_of_month, month_of_year, day_of_week), kwargs, in words
PERIODIC_TASKS = [
    (
        QUARTERLY_RUN,
        "tiering.tasks.tier_run_scheduled",
        ("0", "2", "1", "1,4,7,10", "*"),
        {"scope": "all"},
        "At 02:00 on 1 January, 1 April, 1 July and 1 October.",
    ),
    (
        MONTHLY_RUN,
        "tiering.tasks.tier_run_scheduled",
        ("0", "2", "1", "2,3,5,6,8,9,11,12", "*"),
        {"scope": "vip_at_risk"},
        "At 02:00 on the 1st of every month without a quarterly run.",
    ),
    (
        DOWNGRADE_WARNINGS,
        "tiering.tasks.downgrade_warnings_send",
        ("0", "9", "*", "*", "*"),
        {},
        "Every day at 09:00; sends only on the day that is the configured number of days "
        "(default 14) before a quarterly run.",
    ),
    (
        SWEEP,
        "tiering.tasks.reevaluate_sweep",
        ("17", "*", "*", "*", "*"),
        {},
        "Every hour at minute 17.",
    ),
]


def periodic_tasks_create(crontab_model, periodic_task_model, timezone_name: str, tasks=None) -> int:
    """Create or update the rows of `tasks` (tiering's by default; apps above pass their own
    list of the same shape); safe to call again (existing rows are brought back to the definition)."""
    count = 0
    for name, task, (minute, hour, day_of_month, month_of_year, day_of_week), kwargs, words in (
        PERIODIC_TASKS if tasks is None else tasks
    ):
        schedule, _created = crontab_model.objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_month=day_of_month,
            month_of_year=month_of_year,
            day_of_week=day_of_week,
            timezone=timezone_name,
        )
        periodic_task_model.objects.update_or_create(
            name=name,
            defaults={
                "task": task,
                "crontab": schedule,
                "interval": None,
                "kwargs": json.dumps(kwargs),
                "description": words,
                "enabled": True,
            },
        )
        count += 1
    return count


def _field_matches(field: str, value: int) -> bool:
    if field.strip() == "*":
        return True
    return any(part.strip().isdigit() and int(part) == value for part in field.split(","))


def quarterly_run_on(day: datetime.date) -> bool:
    """Whether the (possibly admin-edited) quarterly schedule fires on `day`."""
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.filter(name=QUARTERLY_RUN, enabled=True).select_related("crontab").first()
    if task is None or task.crontab is None:
        return False
    cron = task.crontab
    return _field_matches(cron.day_of_month, day.day) and _field_matches(cron.month_of_year, day.month)

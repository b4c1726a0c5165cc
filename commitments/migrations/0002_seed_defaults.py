"""The method's defaults: a mainland-China business calendar (9:00-18:00, Monday-Friday, public
holidays and make-up working days from the `holidays` package), each tier's response clock (VIP
24×7, the others business hours), the seeded playbooks, and the every-minute sweeps."""

import datetime

import holidays
from django.conf import settings
from django.db import migrations

CLOCKS = {"vip": "24x7"}
PLAYBOOKS = [
    # (tier code or None, event, name, [(goal, action, owner role, due days, contact kind, kpi)])
    (
        "vip",
        "upgraded_into",
        "Welcome to VIP",
        [
            ("Keep the new VIP", "Executive visit", "account_manager", 14, "visit", "Repurchase rate"),
            ("A plan for their needs", "Draw up a custom service plan", "account_manager", 14, "", "Order value"),
        ],
    ),
    (
        None,
        "downgraded_into",
        "After a downgrade",
        [
            ("Explain the change", "Send the downgrade letter", "account_manager", 3, "", "Retention"),
            ("Win the customer back", "Win-back call", "account_manager", 7, "call", "Retention"),
        ],
    ),
    (
        "dormant",
        "became_dormant",
        "Became dormant",
        [
            ("Find the real reason", "Cause-analysis call", "account_manager", 30, "call", "Dormant activation rate"),
            ("Bring them back", "Make a win-back offer", "account_manager", 30, "", "Dormant activation rate"),
        ],
    ),
    (
        None,
        "warning_spend_down",
        "Spend halved",
        [
            ("Stop the decline", "Call about the drop in spend", "account_manager", None, "call", "Retention"),
        ],
    ),
    (
        None,
        "warning_complaints",
        "Repeated complaints",
        [
            ("Fix the cause", "Review the customer's cases", "tier_admin", 7, "", "First-response SLA compliance"),
        ],
    ),
]


def seed(apps, schema_editor):
    Tier = apps.get_model("scoring", "Tier")
    BusinessCalendar = apps.get_model("commitments", "BusinessCalendar")
    CalendarDay = apps.get_model("commitments", "CalendarDay")
    ServiceLevel = apps.get_model("commitments", "ServiceLevel")
    Playbook = apps.get_model("commitments", "Playbook")
    PlaybookStep = apps.get_model("commitments", "PlaybookStep")
    Group = apps.get_model("auth", "Group")

    calendar, _ = BusinessCalendar.objects.get_or_create(
        name="China (mainland)",
        defaults={
            "time_zone": "Asia/Shanghai",
            "work_start": datetime.time(9),
            "work_end": datetime.time(18),
            "weekdays": "12345",
        },
    )
    year = datetime.date.today().year
    years = list(range(year - 1, year + 3))
    china = holidays.China(years=years)
    days = [
        CalendarDay(calendar=calendar, date=day, kind="holiday", name=str(name)[:100])
        for day, name in sorted(china.items())
    ]
    days += [
        CalendarDay(calendar=calendar, date=day, kind="workday", name="")
        for day in sorted(china.weekend_workdays)
        if day.year in years
    ]
    CalendarDay.objects.bulk_create(days, ignore_conflicts=True)

    for tier in Tier.objects.all():
        clock = CLOCKS.get(tier.code, "business")
        ServiceLevel.objects.get_or_create(tier=tier, defaults={"clock": clock, "calendar": calendar})
    if not ServiceLevel.objects.filter(tier__isnull=True).exists():
        ServiceLevel.objects.create(tier=None, clock="business", calendar=calendar, response_minutes=24 * 60)

    tiers = {t.code: t for t in Tier.objects.all()}
    for tier_code, event, name, steps in PLAYBOOKS:
        if tier_code is not None and tier_code not in tiers:
            continue
        playbook, created = Playbook.objects.get_or_create(
            event=event, tier=tiers.get(tier_code) if tier_code else None, defaults={"name": name}
        )
        if created:
            for position, (goal, action, role, due_days, kind, kpi) in enumerate(steps, start=1):
                PlaybookStep.objects.create(
                    playbook=playbook,
                    position=position,
                    goal=goal,
                    action=action,
                    owner_role=role,
                    due_days=due_days,
                    contact_kind=kind,
                    kpi=kpi,
                )
    Group.objects.get_or_create(name="Service team")

    from commitments.schedules import PERIODIC_TASKS  # at migration time, as RunPython code does
    from tiering.schedules import periodic_tasks_create

    periodic_tasks_create(
        apps.get_model("django_celery_beat", "CrontabSchedule"),
        apps.get_model("django_celery_beat", "PeriodicTask"),
        settings.TIME_ZONE,
        tasks=PERIODIC_TASKS,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("commitments", "0001_initial"),
        ("scoring", "0002_seed_defaults"),
        ("tiering", "0004_periodic_tasks"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

"""The workbench part of the demo data (seed_demo): activities with times, durations and outcomes,
recent contacts (some customers kept up, others overdue), prospects with pipeline grades, open
follow-ups of every kind of urgency, and, once tier runs have happened, a letter sent and next
steps planned from notices.

Deterministic for a seed and a day like the rest of the demo; each customer's details come from a
generator of their own, so the rest of the demo (orders, complaints, flags) does not move."""

from __future__ import annotations

import datetime
import random
import zoneinfo

from django.conf import settings
from django.utils import translation

from core.exceptions import DomainError
from crm.models import Customer, Interaction
from service.models import LetterDispatch, Task
from service.next_steps import WIN_BACK_CALL
from service.services.contact import contact_status_refresh
from service.services.letters import letter_mark_sent
from service.services.tasks import task_from_notice
from tiering.models import Notice, TierChange

DETAILS_SALT = 0x5E7A1C
CONTACT_KINDS = ("visit", "call", "meeting", "email")
OUTCOMES = {
    "call": [
        "客户确认下季度采购计划",
        "未接通，已发短信",
        "客户反馈良好，约定下月回访",
        "报价已确认，等待合同",
        "了解到预算收紧",
    ],
    "visit": ["拜访总经理，沟通年度合作", "现场解决交付问题", "介绍新品，客户同意试用", "参观客户新产线"],
    "meeting": ["季度业务回顾会", "联合方案评审", "续约谈判，初步达成一致"],
    "email": ["已发送报价单", "已发送新品资料", "已发送季度业务报告"],
    "complaint": ["已登记，转售后处理", "已致歉并安排补发", "已安排工程师上门"],
    "inquiry": ["批量采购询价，已报价", "索取样品"],
}
NOTES = {
    "meeting": "与采购、技术负责人开会",
}
DURATIONS = {"call": (5, 35), "visit": (40, 150), "meeting": (30, 120), "complaint": (10, 40)}
GRADE_DAYS = {"A": (5, 30), "B": (31, 90), "C": (91, 180), "D": (181, 400)}
TASK_TITLES = [
    ("季度回访电话", "call"),
    ("上门拜访：沟通年度采购计划", "visit"),
    ("发送续约方案", "email"),
    ("跟进投诉处理结果", "call"),
    ("邀请参加新品发布会", "email"),
    ("确认样品试用反馈", "call"),
    ("准备季度业务回顾会", "meeting"),
    ("核对回款与对账单", ""),
]


def _business_tz():
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _at(day: datetime.date, rng: random.Random) -> datetime.datetime:
    """A working-hours moment on `day` in the business time zone."""
    return datetime.datetime.combine(
        day, datetime.time(rng.randint(9, 17), rng.choice((0, 15, 30, 45))), _business_tz()
    )


def _details_rng(customer_seed: int, seed: int) -> random.Random:
    return random.Random(customer_seed ^ seed ^ DETAILS_SALT)


def prospects_grade(plans, customers: list[Customer], today: datetime.date) -> None:
    """Prospects (no deal yet) get the handbooks' pipeline grade and, unless dead, a close date."""
    for plan, customer in zip(plans, customers, strict=True):
        if plan.since is not None:
            continue
        rng = random.Random(plan.rng_seed ^ DETAILS_SALT)
        grade = rng.choices("ABCDE", weights=[2, 3, 3, 2, 1])[0]
        customer.prospect_grade = grade
        if grade in GRADE_DAYS:
            low, high = GRADE_DAYS[grade]
            customer.expected_close_on = today + datetime.timedelta(days=rng.randint(low, high))


def recent_contacts(plans, customers: list[Customer], today: datetime.date, managers, seed: int) -> list[Interaction]:
    """Contacts of the last months: valuable customers mostly kept up with (a call or visit every
    week or two), some let slip; the rest now and then, so every tier has customers overdue."""
    rows = []
    for plan, customer in zip(plans, customers, strict=True):
        if plan.since is None:
            continue
        rng = _details_rng(plan.rng_seed, seed)
        author = managers[plan.manager_slot]
        if plan.quality > 1.0:
            kept_up = rng.random() < 0.7
            start = rng.randint(1, 6) if kept_up else rng.randint(15, 60)
            days = [start + step * rng.randint(6, 13) for step in range(rng.randint(2, 5))]
        elif plan.quality > 0:
            days = [rng.randint(1, 75)] if rng.random() < 0.6 else []
        else:
            days = [rng.randint(1, 200)] if rng.random() < 0.35 else []
        for days_ago in days:
            kind = rng.choices(CONTACT_KINDS, weights=[3, 5, 1, 2])[0]
            rows.append(
                Interaction(
                    customer=customer,
                    kind=kind,
                    recorded_by=author,
                    occurred_at=today - datetime.timedelta(days=days_ago),
                )
            )
    return rows


def activities_detail(interactions: list[Interaction], seed: int) -> None:
    """A time, a duration and an outcome for each activity, as a manager logging it would give;
    about one visit in four was a meeting."""
    generators: dict[str, random.Random] = {}
    for interaction in interactions:
        code = interaction.customer.code
        rng = generators.get(code) or generators.setdefault(code, random.Random(f"{seed}:{code}"))
        if interaction.kind == "visit" and rng.random() < 0.25:
            interaction.kind = "meeting"
        if interaction.kind in ("referral", "social_share"):
            continue
        interaction.happened_at = _at(interaction.occurred_at, rng)
        if interaction.kind in DURATIONS:
            low, high = DURATIONS[interaction.kind]
            interaction.duration_minutes = rng.randint(low, high)
        interaction.outcome = rng.choice(OUTCOMES.get(interaction.kind, [""]))
        if not interaction.note:
            interaction.note = NOTES.get(interaction.kind, "")


def tasks_seed(managers, today: datetime.date) -> int:
    """Open follow-ups for each manager: overdue, due today, this week and later, and a few done."""
    tz = _business_tz()
    tasks = []
    for manager in [m for m in managers if m is not None]:
        customers = list(
            Customer.objects.filter(account_manager=manager, cooperation_since__isnull=False).order_by("code")[:14]
        )
        rng = random.Random(f"tasks:{manager.username}:{today.isoformat()}")
        # (days from today, hour): overdue, today (late enough to still be ahead), this week, later
        slots = [(-6, 10), (-2, 15), (-1, 9), (0, 23), (0, 23), (2, 10), (3, 14), (5, 11), (9, 10), (16, 15), (30, 10)]
        for (offset, hour), customer in zip(slots, customers, strict=False):
            title, kind = rng.choice(TASK_TITLES)
            tasks.append(
                Task(
                    customer=customer,
                    title=title,
                    owner=manager,
                    due_at=datetime.datetime.combine(today + datetime.timedelta(days=offset), datetime.time(hour), tz),
                    priority=rng.choices([1, 2, 3, 4], weights=[1, 5, 3, 1])[0],
                    contact_kind=kind,
                    note="" if rng.random() < 0.5 else "客户上次提到预算在下季度确定",
                    created_by=manager,
                )
            )
        for customer in customers[len(slots) :]:
            tasks.append(
                Task(
                    customer=customer,
                    title="确认发票已收到",
                    owner=manager,
                    due_at=datetime.datetime.combine(today - datetime.timedelta(days=3), datetime.time(10), tz),
                    status=Task.Status.DONE,
                    completion_note="客户已确认",
                    completed_at=datetime.datetime.combine(today - datetime.timedelta(days=3), datetime.time(16), tz),
                    completed_by=manager,
                    created_by=manager,
                )
            )
    Task.objects.bulk_create(tasks)
    return len(tasks)


def after_runs(managers) -> dict[str, int]:
    """What needs tier runs first (run it after `retier`): one downgrade letter sent per manager
    and a few next steps planned from open notices; then every contact status brought up to date.
    Idempotent: a letter already sent or a step already planned is not repeated."""
    done = {"letters": 0, "steps": 0}
    with translation.override(settings.LANGUAGE_CODE):  # task titles in the language the demo speaks
        _letters_and_steps(managers, done)
    contact_status_refresh(None)
    return done


def _letters_and_steps(managers, done: dict[str, int]) -> None:
    for manager in [m for m in managers if m is not None]:
        if not LetterDispatch.objects.filter(sent_by=manager).exists():
            change = (
                TierChange.objects.filter(direction=TierChange.Direction.DOWNGRADE, customer__account_manager=manager)
                .select_related("customer")
                .order_by("-created_at", "-id")
                .first()
            )
            if change is not None:
                try:
                    letter_mark_sent(customer=change.customer, user=manager)
                    done["letters"] += 1
                except DomainError:  # no letter to send after all (the downgrade has no former tier)
                    pass
        if Task.objects.filter(owner=manager, step=WIN_BACK_CALL).exists():
            continue  # planned by an earlier call
        open_downgrades = (
            Notice.objects.filter(recipient=manager, kind=Notice.Kind.DOWNGRADE, acknowledged_at__isnull=True)
            .select_related("customer", "change")
            .order_by("-created_at", "-id")[:3]
        )
        for notice in open_downgrades:
            try:
                task_from_notice(notice=notice, step_key=WIN_BACK_CALL, user=manager)
                done["steps"] += 1
            except DomainError:  # planned already by someone else meanwhile
                pass

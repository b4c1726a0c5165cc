"""Reads of the service side: due lists, task buckets, dashboard cards, prospects and the timeline.

Each runs a fixed number of queries whatever the number of customers: counts are aggregated in
the database, lists are paginated querysets, and the timeline reads a bounded slice per source.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from core.access import customers_visible_to, rows_visible_to
from core.clock import local_today
from crm.models import Customer, Interaction, Order, SatisfactionSurvey
from scoring.models import Tier
from service.models import ContactPlan, ContactStatus, LetterDispatch, Task
from tiering.models import Notice, TierChange

DUE_SOON_DAYS = 7


def contact_due(user, *, state: str = "", tier_code: str = "", today: datetime.date | None = None) -> QuerySet:
    """Contact statuses of the customers `user` sees, most overdue first. `state`: "overdue"
    (due before today), "due" (due within 7 days, overdue included) or "" (all with a due day)."""
    rows = contact_due_state_filter(
        rows_visible_to(user, ContactStatus.objects.filter(due_on__isnull=False)), state, today=today
    )
    if tier_code:
        rows = rows.filter(tier__code=tier_code)
    return rows.select_related("customer", "customer__account_manager", "tier").order_by("due_on", "customer_id")


CONTACT_DUE_STATES = ("overdue", "due")


def contact_due_state_filter(rows: QuerySet, state: str, *, today: datetime.date | None = None) -> QuerySet:
    """Contact statuses in a state: "overdue" (due before today), "due" (due within 7 days,
    overdue included); any other state leaves them as they are."""
    today = today or local_today()
    if state == "overdue":
        return rows.filter(due_on__lt=today)
    if state == "due":
        return rows.filter(due_on__lte=today + datetime.timedelta(days=DUE_SOON_DAYS))
    return rows


def days_overdue(due_on: datetime.date | None, today: datetime.date | None = None) -> int | None:
    """Days past the due day (0 or negative: not overdue); None when nothing is due."""
    if due_on is None:
        return None
    return ((today or local_today()) - due_on).days


@dataclass
class PlanCard:
    tier: Tier
    plan: ContactPlan | None
    customers: int = 0
    due_soon: int = 0
    overdue: int = 0
    within_plan: int = 0

    @property
    def within_plan_share(self) -> float | None:
        return None if not self.customers else round(100.0 * self.within_plan / self.customers, 1)


def contact_plan_cards(user, *, today: datetime.date | None = None) -> list[PlanCard]:
    """Per tier: customers under a plan, due within 7 days, overdue, and contacted within plan
    (nothing overdue), in one aggregate query plus the tiers."""
    today = today or local_today()
    soon = today + datetime.timedelta(days=DUE_SOON_DAYS)
    counts = {
        row["tier_id"]: row
        for row in rows_visible_to(user, ContactStatus.objects.all())
        .values("tier_id")
        .annotate(
            customers=Count("pk"),
            overdue=Count("pk", filter=Q(due_on__lt=today)),
            due_soon=Count("pk", filter=Q(due_on__gte=today, due_on__lte=soon)),
        )
    }
    cards = []
    for tier in Tier.objects.select_related("contact_plan").order_by("rank"):
        row = counts.get(tier.pk, {})
        customers = row.get("customers", 0)
        overdue = row.get("overdue", 0)
        cards.append(
            PlanCard(
                tier=tier,
                plan=getattr(tier, "contact_plan", None),
                customers=customers,
                due_soon=row.get("due_soon", 0),
                overdue=overdue,
                within_plan=customers - overdue,
            )
        )
    return cards


def tasks_visible_to(user) -> QuerySet[Task]:
    return rows_visible_to(user, Task.objects.all())


TASK_BUCKETS = ("overdue", "today", "week", "later")


def _bucket_bounds(now: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    local = timezone.localtime(now)
    start_tomorrow = (local + datetime.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return start_tomorrow, start_tomorrow + datetime.timedelta(days=6)


def task_bucket_q(bucket: str, now: datetime.datetime | None = None) -> Q:
    now = now or timezone.now()
    tomorrow, week_end = _bucket_bounds(now)
    return {
        "overdue": Q(due_at__lt=now),
        "today": Q(due_at__gte=now, due_at__lt=tomorrow),
        "week": Q(due_at__gte=tomorrow, due_at__lt=week_end),
        "later": Q(due_at__gte=week_end),
    }[bucket]


def my_open_tasks(user, *, bucket: str = "", now: datetime.datetime | None = None) -> QuerySet[Task]:
    """The user's open tasks on customers they see, soonest first."""
    tasks = tasks_visible_to(user).filter(owner=user, status=Task.Status.OPEN)
    if bucket in TASK_BUCKETS:
        tasks = tasks.filter(task_bucket_q(bucket, now))
    return tasks.select_related("customer", "customer__tier", "notice").order_by("due_at", "id")


def task_bucket_counts(user, *, now: datetime.datetime | None = None) -> dict[str, int]:
    """Open tasks of the user per bucket (overdue, today, this week, later) in one query."""
    now = now or timezone.now()
    counts = (
        tasks_visible_to(user)
        .filter(owner=user, status=Task.Status.OPEN)
        .aggregate(**{bucket: Count("pk", filter=task_bucket_q(bucket, now)) for bucket in TASK_BUCKETS})
    )
    counts["total"] = sum(counts[bucket] for bucket in TASK_BUCKETS)
    return counts


def open_task_count(user) -> int:
    if not (user and user.is_authenticated):
        return 0
    return tasks_visible_to(user).filter(owner=user, status=Task.Status.OPEN).count()


def prospects_visible_to(user, *, grade: str = "") -> QuerySet[Customer]:
    """Prospects (no deal yet) by pipeline grade (A first), then expected close date."""
    prospects = customers_visible_to(user, Customer.objects.filter(cooperation_since__isnull=True))
    if grade:
        prospects = prospects.filter(prospect_grade=grade)
    return prospects.select_related("account_manager").order_by("prospect_grade", "expected_close_on", "code")


def prospect_grade_counts(user) -> dict[str, int]:
    rows = prospects_visible_to(user).order_by().values("prospect_grade").annotate(n=Count("pk"))
    counts = {row["prospect_grade"] or "": row["n"] for row in rows}
    counts["total"] = sum(counts.values())
    return counts


# --- timeline ---------------------------------------------------------------------------------------

# "case": the customer's service cases, read through the reverse relation `customer.cases` (the
# commitments app sits above this one, so it is never imported here).
TIMELINE_KINDS = ("order", "activity", "survey", "task", "tier_change", "notice", "letter", "case")


@dataclass
class TimelineEntry:
    kind: str
    at: datetime.datetime
    obj: object = field(repr=False)


def _as_moment(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(23, 59, 59)))


@dataclass
class TimelinePage:
    entries: list[TimelineEntry]
    page: int
    has_next: bool
    kinds: tuple[str, ...]


def customer_timeline(customer: Customer, *, kinds=(), page: int = 1, per_page: int = 25) -> TimelinePage:
    """What happened with a customer, newest first: one bounded query per source (the newest
    page × per_page rows of each), merged; so page N costs the same at 10 or 10 million rows."""
    kinds = tuple(k for k in kinds if k in TIMELINE_KINDS) or TIMELINE_KINDS
    page = max(int(page), 1)
    limit = page * per_page + 1
    entries: list[TimelineEntry] = []
    if "order" in kinds:
        for order in Order.objects.filter(customer=customer).order_by("-ordered_at", "-id")[:limit]:
            entries.append(TimelineEntry("order", _as_moment(order.ordered_at), order))
    if "activity" in kinds:
        for activity in (
            Interaction.objects.filter(customer=customer)
            .select_related("recorded_by", "case")  # a complaint's case, if it was opened as one
            .order_by("-occurred_at", "-happened_at", "-id")[:limit]
        ):
            entries.append(
                TimelineEntry("activity", activity.happened_at or _as_moment(activity.occurred_at), activity)
            )
    if "survey" in kinds:
        for survey in SatisfactionSurvey.objects.filter(customer=customer).order_by("-surveyed_at", "-id")[:limit]:
            entries.append(TimelineEntry("survey", _as_moment(survey.surveyed_at), survey))
    if "task" in kinds:
        for task in Task.objects.filter(customer=customer).select_related("owner").order_by("-created_at")[:limit]:
            entries.append(TimelineEntry("task", task.completed_at or task.created_at, task))
    if "tier_change" in kinds:
        for change in (
            TierChange.objects.filter(customer=customer)
            .select_related("from_tier", "to_tier", "run")
            .order_by("-created_at", "-id")[:limit]
        ):
            entries.append(TimelineEntry("tier_change", change.created_at, change))
    if "notice" in kinds:
        for notice in Notice.objects.filter(customer=customer).select_related("run").order_by("-created_at")[:limit]:
            entries.append(TimelineEntry("notice", notice.created_at, notice))
    if "letter" in kinds:
        for letter in LetterDispatch.objects.filter(customer=customer).select_related("sent_by")[:limit]:
            entries.append(TimelineEntry("letter", letter.sent_at, letter))
    if "case" in kinds:
        for case in customer.cases.select_related("owner", "tier").order_by("-opened_at", "-id")[:limit]:
            entries.append(TimelineEntry("case", case.opened_at, case))
    entries.sort(key=lambda entry: entry.at, reverse=True)
    start = (page - 1) * per_page
    return TimelinePage(
        entries=entries[start : start + per_page],
        page=page,
        has_next=len(entries) > start + per_page,
        kinds=kinds,
    )

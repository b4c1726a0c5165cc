"""Reads of service commitments: case lists and the figures dashboards show, set-based."""

from __future__ import annotations

import datetime

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from commitments.models import Case, Playbook
from core.access import rows_visible_to

OPEN = (Case.Status.OPEN, Case.Status.IN_PROGRESS)


def cases_visible_to(user) -> QuerySet[Case]:
    return rows_visible_to(user, Case.objects.all())


def open_cases(user) -> QuerySet[Case]:
    """Open cases the user sees, the nearest deadline first (answered ones after)."""
    return (
        cases_visible_to(user)
        .filter(status__in=OPEN)
        .select_related("customer", "owner", "tier")
        .order_by(F("first_response_at").asc(nulls_first=True), "first_response_due_at", "pk")
    )


def case_cards(user, *, now: datetime.datetime | None = None) -> list[dict]:
    """Per tier at opening: open cases, breaches recorded this month, and first-response compliance
    of the cases opened this month (answered in time / answered or past due), in one aggregate query."""
    now = now or timezone.now()
    month_start = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    this_month = Q(opened_at__gte=month_start)
    rows = (
        cases_visible_to(user)
        .values("tier_id", "tier__code", "tier__rank")
        .annotate(
            open=Count("pk", filter=Q(status__in=OPEN)),
            # Breaches recorded this month, whenever their case opened (one opened on the 31st
            # and breached on the 1st is this month's breach).
            breaches=Count("pk", filter=Q(breached_at__gte=month_start)),
            met=Count("pk", filter=this_month & Q(first_response_at__lte=F("first_response_due_at"))),
            measured=Count(
                "pk",
                filter=this_month & (Q(first_response_at__isnull=False) | Q(first_response_due_at__lte=now)),
            ),
        )
        .order_by(F("tier__rank").asc(nulls_last=True))
    )
    cards = []
    for row in rows:
        share = None if not row["measured"] else round(100.0 * row["met"] / row["measured"], 1)
        cards.append({**row, "compliance": share})
    return cards


def playbooks_list() -> QuerySet[Playbook]:
    return Playbook.objects.select_related("tier").prefetch_related("steps").order_by("event", "tier__rank")

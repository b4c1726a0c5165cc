"""Reads for tiering: notices, runs, history and the change feed."""

from __future__ import annotations

import datetime
import zoneinfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, TruncDate

from core.access import rows_visible_to, user_sees_all_customers
from crm.models import Customer
from tiering.models import Notice, TierAssignment, TierChange, TierOverride, TierRun


def notices_visible_to(user) -> QuerySet[Notice]:
    """The one rule for notices, wherever they are listed or acknowledged: every notice for those
    who see every customer; for anyone else their own notices about customers they may see (not
    those about a customer since handed to a colleague); none for the anonymous."""
    if user_sees_all_customers(user):
        return Notice.objects.all()
    if not (user and user.is_authenticated):
        return Notice.objects.none()
    return rows_visible_to(user, Notice.objects.filter(recipient=user), customer_path="customer")


def notices_for(user, *, open_only: bool = False) -> QuerySet[Notice]:
    """The notices the user sees, newest first, ready to display."""
    notices = notices_visible_to(user).select_related("customer", "change__from_tier", "change__to_tier")
    if open_only:
        notices = notices.filter(acknowledged_at__isnull=True)
    return notices.order_by("-created_at", "-id")


def unacknowledged_notice_counts() -> list[dict]:
    """Open notices per account manager: [{"recipient_id", "username", "open"}], most first."""
    return list(
        get_user_model()
        .objects.annotate(open=Count("tier_notices", filter=Q(tier_notices__acknowledged_at__isnull=True)))
        .filter(open__gt=0)
        .order_by("-open", "username")
        .values("id", "username", "open")
    )


def latest_run(*, scope: str | None = None, include_dry_runs: bool = False) -> TierRun | None:
    runs = TierRun.objects.all()
    if scope:
        runs = runs.filter(scope=scope)
    if not include_dry_runs:
        runs = runs.filter(dry_run=False)
    return runs.order_by("-created_at", "-id").first()


def runs_list() -> QuerySet[TierRun]:
    return TierRun.objects.select_related("started_by").order_by("-created_at", "-id")


def assignments_for(customer: Customer) -> QuerySet[TierAssignment]:
    """The customer's tier history, newest first by the date each run scored as of (a run started
    later may have looked further back); `run_as_of` is annotated for cursor pagination."""
    return (
        TierAssignment.objects.filter(customer=customer)
        .select_related("run", "tier", "computed_tier", "previous_tier", "profile")
        .annotate(run_as_of=F("run__as_of"))
        .order_by("-run_as_of", "-id")
    )


def assignments_latest_per_period(customer: Customer) -> QuerySet[TierAssignment]:
    """assignments_for with one row per period: that of the period's latest run. A forced rerun
    replaces its period's earlier result on the customer page's chart and table (both stay in
    assignments_for, which the API and admin list)."""
    latest_of_period = TierAssignment.objects.filter(
        customer_id=OuterRef("customer_id"), run__period=OuterRef("run__period")
    ).order_by("-run__created_at", "-run_id")
    return assignments_for(customer).filter(pk=Subquery(latest_of_period.values("pk")[:1]))


def tier_changes_for(customer: Customer) -> QuerySet[TierChange]:
    """The customer's tier changes, newest first by their run's as-of date; a manual change (no
    run) by the day it was made in the business time zone."""
    day = Coalesce(F("run__as_of"), TruncDate("created_at", tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE)))
    return (
        TierChange.objects.filter(customer=customer)
        .select_related("run", "from_tier", "to_tier")
        .annotate(day=day)
        .order_by("-day", "-id")
    )


def tier_changes_feed(
    since: datetime.datetime | None = None,
    direction: str | None = None,
    run: TierRun | int | None = None,
    customer_code: str | None = None,
) -> QuerySet[TierChange]:
    """Tier changes in a stable (created_at, id) order, for the API feed and exports."""
    changes = TierChange.objects.select_related("customer", "from_tier", "to_tier", "run")
    if since is not None:
        changes = changes.filter(created_at__gt=since)
    if direction:
        changes = changes.filter(direction=direction)
    if run is not None:
        changes = changes.filter(run=run)
    if customer_code:
        changes = changes.filter(customer__code=customer_code)
    return changes.order_by("created_at", "id")


def override_for(customer: Customer, *, as_of: datetime.date) -> TierOverride | None:
    """The override in force for a customer on `as_of`, if any (shown wherever the tier is shown)."""
    return (
        TierOverride.objects.filter(customer=customer)
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gt=as_of))
        .select_related("tier", "created_by")
        .first()
    )


def tier_changes_by_direction(customers: QuerySet, run) -> dict[str, int]:
    """Upgrades and downgrades a tier run made among these customers: {"upgrade": n, "downgrade": m}."""
    if run is None:
        return {}
    return dict(
        TierChange.objects.filter(run=run, customer__in=customers.values("pk"))
        .order_by()
        .values_list("direction")
        .annotate(total=Count("id"))
    )

"""Reads for tiering: notices, runs, history and the change feed."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet

from core.access import user_sees_all_customers
from crm.models import Customer
from tiering.models import Notice, TierAssignment, TierChange, TierOverride, TierRun


def user_sees_all_notices(user) -> bool:
    """Admins and whoever sees every customer; account managers see only their own notices."""
    return user_sees_all_customers(user)


def notices_for(user, *, open_only: bool = False) -> QuerySet[Notice]:
    """The user's own notices; admins (and users who see every customer) see all."""
    if not (user and user.is_authenticated):
        return Notice.objects.none()
    notices = Notice.objects.select_related("customer", "change__from_tier", "change__to_tier")
    if not user_sees_all_notices(user):
        notices = notices.filter(recipient=user)
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


def unacknowledged_count_for(user) -> int:
    return notices_for(user, open_only=True).count()


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
    """The customer's tier history, newest first."""
    return (
        TierAssignment.objects.filter(customer=customer)
        .select_related("run", "tier", "computed_tier", "previous_tier", "profile")
        .order_by("-created_at", "-id")
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

"""Who may see which customer. Every list, detail, export and API endpoint starts from here."""

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, F, OuterRef, QuerySet

from crm.models import Customer


def user_sees_all_customers(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or user.has_perm("crm.view_all_customers")))


def customers_visible_to(user, queryset: QuerySet | None = None) -> QuerySet:
    """Admins and users with `crm.view_all_customers` see everyone; account managers see their own."""
    qs = Customer.objects.all() if queryset is None else queryset
    if not (user and user.is_authenticated):
        return qs.none()
    if user_sees_all_customers(user):
        return qs
    return qs.filter(account_manager=user)


def user_sees_sensitive_fields(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm("crm.view_sensitive_fields"))


# --- reads for the account managers' web pages ---------------------------------------------------
# Each takes an already scoped queryset (customers_visible_to) so visibility stays in one place.

CUSTOMER_SORTS = {
    # URL value -> ORDER BY; every sort ends on the unique code so pages never overlap.
    "-score": (F("score").desc(nulls_last=True), "code"),
    "score": (F("score").asc(nulls_last=True), "code"),
    "-spend_12m": ("-spend_12m", "code"),
    "spend_12m": ("spend_12m", "code"),
    "name": ("name", "code"),
    "-name": ("-name", "-code"),
    "-last_order_at": (F("last_order_at").desc(nulls_last=True), "code"),
    "last_order_at": (F("last_order_at").asc(nulls_last=True), "code"),
}
CUSTOMER_DEFAULT_SORT = "-score"


def customer_list(customers: QuerySet, *, sort: str = CUSTOMER_DEFAULT_SORT) -> QuerySet:
    """Rows of the customer list and its exports: a fixed number of queries per page, whatever its size.

    Related rows are fetched for the page afterwards (not joined), so sorting by score stays a
    top-N over the customer table alone instead of a sort of every joined row."""
    ordering = CUSTOMER_SORTS.get(sort, CUSTOMER_SORTS[CUSTOMER_DEFAULT_SORT])
    return customers.prefetch_related("tier", "industry", "account_manager").order_by(*ordering)


def customer_tier_distribution(customers: QuerySet) -> tuple[list[dict], int, int]:
    """Per tier (highest first): customers, share and target share; also the untiered count and the total."""
    from scoring.models import Tier

    counts = dict(customers.order_by().values_list("tier_id").annotate(total=Count("id")))
    total = sum(counts.values())
    rows = []
    for tier in Tier.objects.order_by("rank"):
        count = counts.get(tier.pk, 0)
        rows.append(
            {
                "tier": tier,
                "count": count,
                "share": round(count * 100 / total, 1) if total else 0.0,
                "target_share": float(tier.target_share),
            }
        )
    return rows, counts.get(None, 0), total


def customers_flagged(customers: QuerySet, *, limit: int = 8) -> QuerySet:
    """Customers with at least one early-warning flag, highest tier first."""
    return (
        customers.exclude(flags=[])
        .select_related("tier")
        .order_by(F("tier__rank").asc(nulls_last=True), F("score").desc(nulls_last=True), "code")[:limit]
    )


def account_managers_with_customers() -> QuerySet:
    """People who manage at least one customer, for the administrators' filter."""
    return (
        get_user_model()
        .objects.filter(Exists(Customer.objects.filter(account_manager=OuterRef("pk"))))
        .order_by("username")
    )


def customer_activity(customer: Customer, *, limit: int = 10) -> dict[str, list]:
    """The latest orders, interactions and surveys shown on the customer page."""
    return {
        "orders": list(customer.orders.order_by("-ordered_at", "-id")[:limit]),
        "interactions": list(
            customer.interactions.select_related("recorded_by").order_by("-occurred_at", "-id")[:limit]
        ),
        "surveys": list(customer.surveys.order_by("-surveyed_at", "-id")[:limit]),
    }


def customers_flagged_count(customers: QuerySet) -> int:
    return customers.exclude(flags=[]).count()


def tier_changes_by_direction(customers: QuerySet, run) -> dict[str, int]:
    """Upgrades and downgrades a tier run made among these customers: {"upgrade": n, "downgrade": m}."""
    from tiering.models import TierChange

    if run is None:
        return {}
    return dict(
        TierChange.objects.filter(run=run, customer__in=customers.values("pk"))
        .order_by()
        .values_list("direction")
        .annotate(total=Count("id"))
    )

"""Reads of customer records. Every list, detail, export and API endpoint starts from
`customers_visible_to`, whose rule lives in core.access."""

from django.contrib.auth import get_user_model
from django.db.models import Exists, F, OuterRef, QuerySet

from core import access
from crm.models import Customer

CODES_PER_QUERY = 5000  # below every database's limit on query parameters


def customers_visible_to(user, queryset: QuerySet | None = None) -> QuerySet:
    """The customers `user` may see, of `queryset` (default: all customers)."""
    return access.customers_visible_to(user, Customer.objects.all() if queryset is None else queryset)


def customers_by_code(codes, *, user=None, only: tuple[str, ...] = ()) -> dict[str, Customer]:
    """{code: customer} for the codes that name a customer `user` may see (any customer without
    a user), in a few queries whatever the number of codes. A code missing from the result is
    unknown to this caller: callers report it as unknown, so nobody learns which codes exist."""
    wanted = sorted({str(code).strip() for code in codes if isinstance(code, str) and code.strip()})
    customers = customers_visible_to(user) if user is not None else Customer.objects.all()
    if only:
        customers = customers.only(*only)
    found: dict[str, Customer] = {}
    for start in range(0, len(wanted), CODES_PER_QUERY):
        found.update((c.code, c) for c in customers.filter(code__in=wanted[start : start + CODES_PER_QUERY]))
    return found


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

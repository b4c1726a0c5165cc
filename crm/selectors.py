"""Reads of customer records. Every list, detail, export and API endpoint starts from
`customers_visible_to`, whose rule lives in core.access."""

import datetime
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Exists, F, OuterRef, QuerySet, Subquery
from django.utils.text import capfirst

from core import access
from core.collation import Pinyin
from crm.models import Customer, Industry

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
    "name": (Pinyin("name").asc(), "code"),  # 北京, 成都, 上海: pinyin, not code points
    "-name": (Pinyin("name").desc(), "-code"),
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


# --- the dates of stored figures ----------------------------------------------------------------


@dataclass(frozen=True)
class TierRunRef:
    """The tier run that computed a customer's stored score and tier."""

    period: str
    as_of: datetime.date

    def __str__(self) -> str:
        return f"{self.period} ({self.as_of:%Y-%m-%d})"


def _tier_history():
    """Tiering's history rows about customers, reached through Customer's reverse relation: crm never
    imports tiering, and reads the history kept against its customers as the API reads `tier_override`."""
    return Customer._meta.get_field("tier_assignments").related_model


def customers_with_tier_run(customers: QuerySet) -> QuerySet:
    """`customers` annotated with `tier_run_id`: the run of each one's latest tier history row, which
    computed the stored score and tier (None: never tiered). One indexed lookup per row, inside the
    one query; tier_run_refs turns the ids into periods and dates."""
    latest = _tier_history()._default_manager.filter(customer=OuterRef("pk")).order_by("-created_at", "-id")
    return customers.annotate(tier_run_id=Subquery(latest.values("run_id")[:1]))


def tier_run_refs(run_ids=None) -> dict[int, TierRunRef]:
    """{run id: TierRunRef} for these runs, or for every run (a few a quarter) when None, in one query."""
    runs = _tier_history()._meta.get_field("run").related_model._default_manager.all()
    if run_ids is not None:
        runs = runs.filter(pk__in={pk for pk in run_ids if pk is not None})
    return {pk: TierRunRef(period, as_of) for pk, period, as_of in runs.values_list("pk", "period", "as_of")}


def tier_run_of(customer) -> TierRunRef | None:
    """The run of a customer read through customers_with_tier_run (one query; None: never tiered)."""
    run_id = getattr(customer, "tier_run_id", None)
    return tier_run_refs([run_id]).get(run_id) if run_id is not None else None


def tier_runs_of(customer_ids) -> dict[int, TierRunRef]:
    """{customer id: TierRunRef} for a page of customers, in two queries."""
    run_ids = dict(
        customers_with_tier_run(Customer.objects.filter(pk__in=set(customer_ids))).values_list("pk", "tier_run_id")
    )
    runs = tier_run_refs(run_ids.values())
    return {pk: runs[run_id] for pk, run_id in run_ids.items() if run_id in runs}


# --- record changes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class RecordChange:
    """One edit of a customer record as the customer page shows it: who, when, why, before -> after."""

    when: datetime.datetime
    who: str
    why: str
    created: bool
    changes: list[FieldChange] = field(default_factory=list)


_RECORD_FIELDS_HIDDEN = {"id", "code", "created_at"}


def customer_record_changes(customer: Customer, *, limit: int = 8) -> list[RecordChange]:
    """The latest edits of the customer's record, newest first, in three queries whatever the limit.

    Sensitive identifiers and the standing tier runs write are not in the history at all
    (crm.models.HISTORY_EXCLUDED_FIELDS); an edit of nothing else shown is left out."""
    records = list(
        Customer.history.filter(id=customer.pk)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[: limit + 1]
    )
    tracked = [f for f in Customer.history.model.tracked_fields if f.name not in _RECORD_FIELDS_HIDDEN]
    pairs = [(record, records[n + 1] if n + 1 < len(records) else None) for n, record in enumerate(records[:limit])]
    diffs = {
        record.history_id: [f for f in tracked if getattr(record, f.attname) != getattr(before, f.attname)]
        for record, before in pairs
        if before is not None and record.history_type == "~"
    }
    changed_names = {f.name for fields in diffs.values() for f in fields}
    names: dict[str, dict] = {}  # related rows by key, for the fields that changed
    if "industry" in changed_names:
        names["industry"] = {industry.pk: str(industry) for industry in Industry.objects.all()}
    if "account_manager" in changed_names:
        user_ids = {r.account_manager_id for r in records if r.account_manager_id is not None}
        names["account_manager"] = dict(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username"))

    def shown(record, model_field) -> str:
        value = getattr(record, model_field.attname)
        if value in (None, ""):
            return "—"
        if model_field.name in names:
            return names[model_field.name].get(value, str(value))
        if model_field.choices:
            return str(getattr(record, f"get_{model_field.name}_display")())
        if isinstance(value, datetime.date):
            return value.isoformat()
        return str(value)

    changes = []
    for record, before in pairs:
        user = record.history_user
        entry = RecordChange(
            when=record.history_date,
            who=user.get_username() if user else "",
            why=record.history_change_reason or "",
            created=record.history_type == "+",
            changes=[
                FieldChange(str(capfirst(f.verbose_name)), shown(before, f), shown(record, f))
                for f in diffs.get(record.history_id, [])
            ],
        )
        if entry.created or entry.changes:
            changes.append(entry)
    return changes

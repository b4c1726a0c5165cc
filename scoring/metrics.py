"""The metrics the code knows, and how to compute them for many customers at once.

One set-based query per metric family (orders, surveys, interactions, customer fields),
over a 12-month window `as_of - 365 days < date <= as_of`, aligned into NumPy arrays.
Never a query per customer. The portable path is plain ORM (SQLite and any database);
PostgreSQL gets hand-written SQL that reads the orders through their covering index with a
streaming aggregate and returns plain floats and day numbers, so no Decimal or date object is
built per row (measurements in docs/performance.md).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np
from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
from django.db.models import Avg, Count, Max, Q, Sum
from django.utils.translation import gettext_lazy as _

from core import pgcopy
from crm.models import Interaction, Order, SatisfactionSurvey

WINDOW_DAYS = 365


@dataclass(frozen=True)
class Metric:
    key: str
    label: object
    family: str
    unit: object = ""


METRICS: dict[str, Metric] = {
    m.key: m
    for m in [
        Metric("spend_12m", _("12-month spend"), "orders", _("currency")),
        Metric("orders_12m", _("orders in 12 months"), "orders", _("orders")),
        Metric("avg_order_value_12m", _("average order value (12 months)"), "orders", _("currency")),
        Metric("recency_days", _("days since last order"), "orders", _("days")),
        Metric("tenure_years", _("years of cooperation"), "customer", _("years")),
        Metric("satisfaction_12m", _("satisfaction (12-month mean)"), "surveys", _("of 5")),
        Metric("strategic_potential", _("strategic potential"), "customer", _("of 10")),
        Metric("referrals_12m", _("referrals in 12 months"), "interactions", _("referrals")),
        Metric("complaints_12m", _("complaints in 12 months"), "interactions", _("complaints")),
        Metric("social_shares_12m", _("social shares in 12 months"), "interactions", _("shares")),
    ]
}

METRIC_CHOICES = [(key, metric.label) for key, metric in METRICS.items()]


def metric_label(key: str) -> str:
    metric = METRICS.get(key)
    return str(metric.label) if metric else key


def window_start(as_of: datetime.date) -> datetime.date:
    """First day *excluded* from the window: dates d with start < d <= as_of count."""
    return as_of - datetime.timedelta(days=WINDOW_DAYS)


@dataclass
class MetricTable:
    """Metrics and facts for a set of customers, one array entry per customer (sorted by id)."""

    as_of: datetime.date
    customer_ids: np.ndarray
    metrics: dict[str, np.ndarray]
    customer_type: np.ndarray
    industry_id: np.ndarray
    account_manager_id: np.ndarray  # -1 when none
    status: np.ndarray
    tier_id: np.ndarray  # current effective tier, -1 when never tiered
    computed_tier_id: np.ndarray
    score: np.ndarray  # current score, NaN when never tiered
    spend_12m_before: np.ndarray  # spend stored by the last run
    runs_below_threshold: np.ndarray
    cooperation_since: np.ndarray  # ordinal day, -1 when a prospect
    last_order: np.ndarray  # ordinal day of the last order in the window, -1 when none
    last_interaction: np.ndarray  # ordinal day of the last interaction in the window, -1 when none
    complaints_recent: np.ndarray  # complaints in the early-warning window

    def __len__(self) -> int:
        return len(self.customer_ids)

    def row(self, index: int) -> dict[str, float | None]:
        return {
            key: (None if np.isnan(values[index]) else float(values[index])) for key, values in self.metrics.items()
        }


def _align(customer_ids: np.ndarray, rows: list[tuple], columns: int, fill=np.nan, dtype=float) -> list[np.ndarray]:
    """Spread (customer_id, v1, v2, ...) rows into arrays aligned with the sorted customer_ids."""
    result = [np.full(len(customer_ids), fill, dtype=dtype) for _ in range(columns)]
    if not rows:
        return result
    ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    positions = np.searchsorted(customer_ids, ids)
    for column in range(columns):
        result[column][positions] = [fill if row[column + 1] is None else row[column + 1] for row in rows]
    return result


def _ordinal(value) -> int:
    return value.toordinal() if value is not None else -1


def _derived_metrics(
    as_of: datetime.date,
    *,
    cooperation_since: np.ndarray,
    strategic: np.ndarray,
    spend: np.ndarray,
    count: np.ndarray,
    last_order: np.ndarray,
    satisfaction: np.ndarray,
    referrals: np.ndarray,
    complaints: np.ndarray,
    shares: np.ndarray,
) -> dict[str, np.ndarray]:
    """The registered metrics from the raw aggregates; both database paths end here."""
    as_of_ordinal = as_of.toordinal()
    tenure = np.where(cooperation_since >= 0, (as_of_ordinal - cooperation_since) / 365.25, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        average = np.where(count > 0, spend / np.maximum(count, 1), 0.0)
    recency = np.where(last_order >= 0, as_of_ordinal - last_order, np.nan).astype(float)
    return {
        "spend_12m": spend,
        "orders_12m": count,
        "avg_order_value_12m": average,
        "recency_days": recency,
        "tenure_years": np.maximum(tenure, 0.0),
        "satisfaction_12m": satisfaction,
        "strategic_potential": strategic,
        "referrals_12m": referrals,
        "complaints_12m": complaints,
        "social_shares_12m": shares,
    }


def metric_table(
    customers,
    as_of: datetime.date,
    *,
    complaints_window_days: int = 90,
) -> MetricTable:
    """Compute every registered metric for the customers in `customers` (a Customer queryset)."""
    if connections[customers.db].vendor == "postgresql":
        return _metric_table_postgres(customers, as_of, complaints_window_days=complaints_window_days)
    return _metric_table_portable(customers, as_of, complaints_window_days=complaints_window_days)


def _metric_table_portable(customers, as_of: datetime.date, *, complaints_window_days: int) -> MetricTable:
    start = window_start(as_of)
    rows = list(
        customers.order_by("id").values_list(
            "id",
            "customer_type",
            "industry_id",
            "industry__strategic",
            "potential_rating",
            "cooperation_since",
            "status",
            "account_manager_id",
            "tier_id",
            "computed_tier_id",
            "score",
            "spend_12m",
            "runs_below_threshold",
        )
    )
    size = len(rows)
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=size)
    table_ids = customers.order_by().values("id")

    orders = list(
        Order.objects.filter(customer_id__in=table_ids, ordered_at__gt=start, ordered_at__lte=as_of)
        .values("customer_id")
        .annotate(spend=Sum("amount"), count=Count("amount"), last=Max("ordered_at"))
        .values_list("customer_id", "spend", "count", "last")
    )
    spend, count = _align(ids, [(r[0], float(r[1]), r[2]) for r in orders], 2, fill=0.0)
    (last_order,) = _align(ids, [(r[0], _ordinal(r[3])) for r in orders], 1, fill=-1, dtype=np.int64)

    surveys = list(
        SatisfactionSurvey.objects.filter(customer_id__in=table_ids, surveyed_at__gt=start, surveyed_at__lte=as_of)
        .values("customer_id")
        .annotate(mean=Avg("score"))
        .values_list("customer_id", "mean")
    )
    (satisfaction,) = _align(ids, [(r[0], float(r[1])) for r in surveys], 1)

    recent_start = as_of - datetime.timedelta(days=complaints_window_days)
    kind = Interaction.Kind
    interactions = list(
        Interaction.objects.filter(customer_id__in=table_ids, occurred_at__gt=start, occurred_at__lte=as_of)
        .values("customer_id")
        .annotate(
            referrals=Count("id", filter=Q(kind=kind.REFERRAL)),
            complaints=Count("id", filter=Q(kind=kind.COMPLAINT)),
            shares=Count("id", filter=Q(kind=kind.SOCIAL_SHARE)),
            complaints_recent=Count("id", filter=Q(kind=kind.COMPLAINT, occurred_at__gt=recent_start)),
            last=Max("occurred_at"),
        )
        .values_list("customer_id", "referrals", "complaints", "shares", "complaints_recent", "last")
    )
    referrals, complaints, shares = _align(ids, [r[:4] for r in interactions], 3, fill=0.0)
    complaints_recent, last_interaction = _align(
        ids, [(r[0], r[4], _ordinal(r[5])) for r in interactions], 2, fill=0, dtype=np.int64
    )
    last_interaction = np.where(last_interaction == 0, -1, last_interaction)

    cooperation_since = np.fromiter((_ordinal(r[5]) for r in rows), dtype=np.int64, count=size)
    strategic = np.fromiter((10.0 if r[3] else float(r[4] or 0) for r in rows), dtype=float, count=size)
    return MetricTable(
        as_of=as_of,
        customer_ids=ids,
        metrics=_derived_metrics(
            as_of,
            cooperation_since=cooperation_since,
            strategic=strategic,
            spend=spend,
            count=count,
            last_order=last_order,
            satisfaction=satisfaction,
            referrals=referrals,
            complaints=complaints,
            shares=shares,
        ),
        customer_type=np.array([r[1] for r in rows], dtype=object),
        industry_id=np.fromiter((r[2] for r in rows), dtype=np.int64, count=size),
        account_manager_id=np.fromiter((r[7] if r[7] is not None else -1 for r in rows), dtype=np.int64, count=size),
        status=np.array([r[6] for r in rows], dtype=object),
        tier_id=np.fromiter((r[8] if r[8] is not None else -1 for r in rows), dtype=np.int64, count=size),
        computed_tier_id=np.fromiter((r[9] if r[9] is not None else -1 for r in rows), dtype=np.int64, count=size),
        score=np.fromiter((float(r[10]) if r[10] is not None else np.nan for r in rows), dtype=float, count=size),
        spend_12m_before=np.fromiter((float(r[11]) for r in rows), dtype=float, count=size),
        runs_below_threshold=np.fromiter((r[12] for r in rows), dtype=np.int64, count=size),
        cooperation_since=cooperation_since,
        last_order=last_order,
        last_interaction=last_interaction,
        complaints_recent=complaints_recent,
    )


# --- PostgreSQL ---------------------------------------------------------------------------------

# Day numbers as Python's date.toordinal() counts them (0001-01-01 is day 1).
_ORDINAL = "({column} - DATE '0001-01-01' + 1)"
# Customers per id in [first, last] above which one range scan beats restricting to the set.
_DENSE_RANGE = 0.5
# Up to this many customers, a sparse set is passed as an id list; beyond it, as a subquery.
_ID_LIST_MAX = 1000

_ORDERS_SQL = (
    "SELECT customer_id, SUM(amount)::float8, COUNT(amount), " + _ORDINAL.format(column="MAX(ordered_at)") + " "
    "FROM crm_order WHERE {restriction} AND ordered_at > %s AND ordered_at <= %s "
    "GROUP BY customer_id ORDER BY customer_id"
)
_SURVEYS_SQL = (
    "SELECT customer_id, AVG(score)::float8 FROM crm_satisfactionsurvey "
    "WHERE {restriction} AND surveyed_at > %s AND surveyed_at <= %s GROUP BY customer_id ORDER BY customer_id"
)
_INTERACTIONS_SQL = (
    "SELECT customer_id, COUNT(*) FILTER (WHERE kind = %s), COUNT(*) FILTER (WHERE kind = %s), "
    "COUNT(*) FILTER (WHERE kind = %s), COUNT(*) FILTER (WHERE kind = %s AND occurred_at > %s), "
    + _ORDINAL.format(column="MAX(occurred_at)")
    + " "
    "FROM crm_interaction WHERE {restriction} AND occurred_at > %s AND occurred_at <= %s "
    "GROUP BY customer_id ORDER BY customer_id"
)


def _choice_codes(field: str, values: list[str]):
    """The position of the field's value among `values` (-1 for another value), as SQL."""
    from django.db.models import Case, IntegerField, Value, When

    return Case(
        *(When(**{field: value}, then=Value(n)) for n, value in enumerate(values)),
        default=Value(-1),
        output_field=IntegerField(),
    )


def _customer_columns_postgres(customers) -> tuple[dict[str, np.ndarray], list[str], list[str]]:
    """The customer facts as arrays in id order (-1 / NaN for NULL); customer type and status as
    positions in the returned value lists."""
    from django.db.models import F, FloatField, Func, IntegerField, Value
    from django.db.models.functions import Cast, Coalesce

    from crm.models import Customer

    types = list(Customer.CustomerType.values)
    statuses = list(Customer.Status.values)
    query = (
        customers.order_by("id")
        .annotate(
            _type=_choice_codes("customer_type", types),
            _strategic=Coalesce(F("industry__strategic"), Value(False)),
            _rating=Coalesce("potential_rating", Value(0), output_field=IntegerField()),
            _since=Coalesce(
                Func(
                    "cooperation_since", template=_ORDINAL.format(column="%(expressions)s"), output_field=IntegerField()
                ),
                Value(-1),
            ),
            _status=_choice_codes("status", statuses),
            _industry=Coalesce("industry_id", Value(-1), output_field=IntegerField()),
            _manager=Coalesce("account_manager_id", Value(-1), output_field=IntegerField()),
            _tier=Coalesce("tier_id", Value(-1), output_field=IntegerField()),
            _computed=Coalesce("computed_tier_id", Value(-1), output_field=IntegerField()),
            _score=Coalesce(Cast("score", FloatField()), Value(float("nan"))),
            _spend=Cast("spend_12m", FloatField()),
            _below=Cast("runs_below_threshold", IntegerField()),
        )
        .values_list(
            "id",
            "_type",
            "_industry",
            "_strategic",
            "_rating",
            "_since",
            "_status",
            "_manager",
            "_tier",
            "_computed",
            "_score",
            "_spend",
            "_below",
        )
    )
    names = [
        ("id", "bigint"),
        ("type", "integer"),
        ("industry", "bigint"),
        ("strategic", "boolean"),
        ("rating", "integer"),
        ("since", "integer"),
        ("status", "integer"),
        ("manager", "bigint"),
        ("tier", "bigint"),
        ("computed", "bigint"),
        ("score", "float8"),
        ("spend", "float8"),
        ("below", "integer"),
    ]
    try:
        sql, params = query.query.get_compiler(using=customers.db).as_sql()
    except EmptyResultSet:
        return pgcopy.empty_columns(names), types, statuses
    # Fixed-width binary columns: bigint ids, integer codes and days, double precision numbers.
    outer = ", ".join(f"c{n}::{kind}" for n, (_name, kind) in enumerate(names))
    aliases = ", ".join(f"c{n}" for n in range(len(names)))
    wrapped = f"SELECT {outer} FROM ({sql}) AS q({aliases})"  # noqa: S608 (the ORM's SQL; values are parameters)
    with connections[customers.db].cursor() as cursor:
        columns = pgcopy.columns_read(cursor.cursor, wrapped, params, names)
    return columns, types, statuses


def _restriction(customers, ids: np.ndarray) -> tuple[str, list]:
    """SQL restricting `customer_id` to the customers: an id range for a dense set (a chunk of a
    run), an id list for a few, otherwise the customers' own query."""
    first, last = int(ids[0]), int(ids[-1])
    if len(ids) >= _DENSE_RANGE * (last - first + 1):
        return "customer_id BETWEEN %s AND %s", [first, last]
    if len(ids) <= _ID_LIST_MAX:
        return "customer_id = ANY(%s)", [ids.tolist()]
    sql, params = customers.order_by().values("id").query.get_compiler(using=customers.db).as_sql()
    return f"customer_id IN ({sql})", list(params)


def _aggregate_postgres(cursor, sql: str, restriction, ids: np.ndarray, kinds: list[str], *, before=(), after=()):
    """Columns (customer_id, v1..vn) of a per-customer aggregate, only for `ids`.
    `before` and `after` are the parameters around the restriction in the SQL."""
    clause, params = restriction
    names = [("id", "bigint")] + [(f"v{n}", kind) for n, kind in enumerate(kinds, start=1)]
    columns = pgcopy.columns_read(cursor.cursor, sql.format(restriction=clause), [*before, *params, *after], names)
    # An id range may hold customers the queryset left out: keep only the wanted ones.
    row_ids = columns["id"]
    if not len(row_ids):
        return columns
    positions = np.minimum(np.searchsorted(ids, row_ids), len(ids) - 1)
    wanted = ids[positions] == row_ids
    return {name: values[wanted] for name, values in columns.items()}


def _spread(ids: np.ndarray, data: dict[str, np.ndarray], column: int, fill, dtype=float) -> np.ndarray:
    result = np.full(len(ids), fill, dtype=dtype)
    if len(data["id"]):
        result[np.searchsorted(ids, data["id"])] = data[f"v{column}"]
    return result


def _metric_table_postgres(customers, as_of: datetime.date, *, complaints_window_days: int) -> MetricTable:
    db = customers.db
    start = window_start(as_of)
    facts, types, statuses = _customer_columns_postgres(customers)
    ids = facts["id"]
    size = len(ids)

    empty = {"id": np.zeros(0, dtype=np.int64)}
    orders = surveys = interactions = empty
    if size:
        kind = Interaction.Kind
        recent_start = as_of - datetime.timedelta(days=complaints_window_days)
        restriction = _restriction(customers, ids)
        # In their own transaction, hash aggregation is off and random reads are priced for SSDs,
        # so PostgreSQL streams the covering index in customer order instead of hashing the window.
        with transaction.atomic(using=db), connections[db].cursor() as cursor:
            cursor.execute("SET LOCAL enable_hashagg = off")
            cursor.execute("SET LOCAL random_page_cost = 1.1")
            orders = _aggregate_postgres(
                cursor, _ORDERS_SQL, restriction, ids, ["float8", "bigint", "integer"], after=[start, as_of]
            )
            surveys = _aggregate_postgres(cursor, _SURVEYS_SQL, restriction, ids, ["float8"], after=[start, as_of])
            interactions = _aggregate_postgres(
                cursor,
                _INTERACTIONS_SQL,
                restriction,
                ids,
                ["bigint", "bigint", "bigint", "bigint", "integer"],
                before=[kind.REFERRAL, kind.COMPLAINT, kind.SOCIAL_SHARE, kind.COMPLAINT, recent_start],
                after=[start, as_of],
            )
    spend = _spread(ids, orders, 1, 0.0)
    count = _spread(ids, orders, 2, 0.0)
    last_order = _spread(ids, orders, 3, -1, dtype=np.int64)
    satisfaction = _spread(ids, surveys, 1, np.nan)
    referrals = _spread(ids, interactions, 1, 0.0)
    complaints = _spread(ids, interactions, 2, 0.0)
    shares = _spread(ids, interactions, 3, 0.0)
    complaints_recent = _spread(ids, interactions, 4, 0, dtype=np.int64)
    last_interaction = _spread(ids, interactions, 5, -1, dtype=np.int64)

    cooperation_since = facts["since"]
    strategic = np.where(facts["strategic"], 10.0, facts["rating"].astype(float))
    return MetricTable(
        as_of=as_of,
        customer_ids=ids,
        metrics=_derived_metrics(
            as_of,
            cooperation_since=cooperation_since,
            strategic=strategic,
            spend=spend,
            count=count,
            last_order=last_order,
            satisfaction=satisfaction,
            referrals=referrals,
            complaints=complaints,
            shares=shares,
        ),
        customer_type=_choices_back(facts["type"], types),
        industry_id=facts["industry"],
        account_manager_id=facts["manager"],
        status=_choices_back(facts["status"], statuses),
        tier_id=facts["tier"],
        computed_tier_id=facts["computed"],
        score=facts["score"],
        spend_12m_before=facts["spend"],
        runs_below_threshold=facts["below"],
        cooperation_since=cooperation_since,
        last_order=last_order,
        last_interaction=last_interaction,
        complaints_recent=complaints_recent,
    )


def _choices_back(codes: np.ndarray, values: list[str]) -> np.ndarray:
    """Positions from _choice_codes back to the values ("" for a value outside the choices)."""
    return np.array([*values, ""], dtype=object)[codes]
